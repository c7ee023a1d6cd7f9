//! What a Virga token says: the user, the scope, the roles and the token's
//! own life (id, issue and expiry times, audit ids).
//!
//! Field names on the wire (the JWT payload), kept short because the token
//! travels in `X-Auth-Token` on every request:
//!
//! | field | wire name | meaning |
//! |---|---|---|
//! | `jti` | `jti` | token id (uuid), the key of token revocation |
//! | `iss` | `iss` | issuer, compared with the verifier's configured issuer |
//! | `sub` | `sub` | user id |
//! | `user_name` | `name` | user name |
//! | `user_domain` | `udom` | the user's domain `{id, name}` |
//! | `scope` | `scope` | `{"t":"project",id,name,domain}` / `{"t":"domain",id,name}` / `{"t":"system"}` / `{"t":"unscoped"}` |
//! | `roles` | `roles` | `[{id, name}]`, empty for unscoped tokens |
//! | `methods` | `amr` | authentication methods, e.g. `["password"]` (RFC 8176's claim name) |
//! | `iat`, `exp` | `iat`, `exp` | issue and expiry time, unix seconds |
//! | `iat_ms` | `iatms` | issue time in unix milliseconds, for revocation by user or project |
//! | `app_credential_id` | `appcred` | set when authenticated by an application credential |
//! | `federation` | `fed` | `{idp, proto, groups}` when the user logged in through an identity provider |
//! | `audit_ids` | `audit` | Keystone's audit ids: this token's, then its chain's |
//!
//! Unknown fields are ignored so an older service keeps accepting tokens from
//! a newer identity service during a rolling upgrade.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A domain or role reference: Keystone shows both id and name everywhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

impl NamedRef {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        NamedRef {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// The user a token is issued to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRef {
    pub id: String,
    pub name: String,
    pub domain: NamedRef,
}

/// What the token grants access to; Keystone's four kinds of scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum Scope {
    Project {
        id: String,
        name: String,
        domain: NamedRef,
    },
    Domain {
        id: String,
        name: String,
    },
    /// Keystone's `{"system": {"all": true}}`, the only system scope there is.
    System,
    Unscoped,
}

/// How a federated user logged in: Keystone's `OS-FEDERATION` block of a
/// token's user, kept through rescoping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Federation {
    #[serde(rename = "idp")]
    pub identity_provider: String,
    #[serde(rename = "proto")]
    pub protocol: String,
    /// The ids of the groups the login mapped the user to.
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    pub jti: Uuid,
    pub iss: String,
    pub sub: String,
    #[serde(rename = "name")]
    pub user_name: String,
    #[serde(rename = "udom")]
    pub user_domain: NamedRef,
    pub scope: Scope,
    #[serde(default)]
    pub roles: Vec<NamedRef>,
    #[serde(rename = "amr")]
    pub methods: Vec<String>,
    pub iat: u64,
    pub exp: u64,
    #[serde(rename = "iatms", default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<u64>,
    #[serde(rename = "appcred", default, skip_serializing_if = "Option::is_none")]
    pub app_credential_id: Option<String>,
    #[serde(rename = "fed", default, skip_serializing_if = "Option::is_none")]
    pub federation: Option<Federation>,
    #[serde(rename = "audit")]
    pub audit_ids: Vec<String>,
}

impl TokenClaims {
    /// A fresh token's claims: new `jti` and audit id, `exp = now + lifetime`.
    pub fn new(
        issuer: impl Into<String>,
        user: UserRef,
        scope: Scope,
        roles: Vec<NamedRef>,
        methods: Vec<String>,
        now: u64,
        lifetime: Duration,
    ) -> Self {
        TokenClaims {
            jti: Uuid::new_v4(),
            iss: issuer.into(),
            sub: user.id,
            user_name: user.name,
            user_domain: user.domain,
            scope,
            roles,
            methods,
            iat: now,
            exp: now.saturating_add(lifetime.as_secs()),
            iat_ms: None,
            app_credential_id: None,
            federation: None,
            audit_ids: vec![new_audit_id()],
        }
    }

    /// Marks these claims as a rescoping of `parent` (Keystone's `token`
    /// method): the parent's chain id is appended so revoking the chain also
    /// revokes this token, and the expiry never outlives the parent's, or
    /// rescoping would extend a stolen token's life forever.
    pub fn rescoped_from(mut self, parent: &TokenClaims) -> Self {
        self.audit_ids.truncate(1);
        self.audit_ids.push(parent.audit_chain_id().to_string());
        self.exp = self.exp.min(parent.exp);
        self
    }

    /// Stamps the issue time to the millisecond (`iat` follows, in seconds).
    pub fn issued_at(mut self, unix_ms: u64) -> Self {
        let lifetime = self.exp.saturating_sub(self.iat);
        self.iat = unix_ms / 1000;
        self.exp = self.iat.saturating_add(lifetime);
        self.iat_ms = Some(unix_ms);
        self
    }

    /// The issue time in milliseconds; a token without `iatms` counts as
    /// issued at the start of its `iat` second, so a revocation in that
    /// second still catches it.
    pub fn issued_at_ms(&self) -> u64 {
        self.iat_ms.unwrap_or_else(|| self.iat.saturating_mul(1000))
    }

    pub fn with_federation(mut self, federation: Option<Federation>) -> Self {
        self.federation = federation;
        self
    }

    pub fn with_app_credential(mut self, id: impl Into<String>) -> Self {
        self.app_credential_id = Some(id.into());
        self
    }

    pub fn user_id(&self) -> &str {
        &self.sub
    }

    pub fn project_id(&self) -> Option<&str> {
        match &self.scope {
            Scope::Project { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The domain the token is about: its domain scope, or its project's domain.
    pub fn scope_domain_id(&self) -> Option<&str> {
        match &self.scope {
            Scope::Project { domain, .. } => Some(&domain.id),
            Scope::Domain { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The id shared by a token and all tokens rescoped from it: the
    /// parent's audit id if there is one, otherwise the token's own.
    pub fn audit_chain_id(&self) -> &str {
        self.audit_ids
            .get(1)
            .or_else(|| self.audit_ids.first())
            .map_or("", String::as_str)
    }

    pub fn has_role(&self, name: &str) -> bool {
        self.roles.iter().any(|r| r.name == name)
    }
}

/// A short random id like Keystone's (16 random bytes, base64url: 22 chars);
/// it identifies the token in audit logs without being the token itself.
pub fn new_audit_id() -> String {
    URL_SAFE_NO_PAD.encode(Uuid::new_v4().as_bytes())
}

#[cfg(test)]
#[path = "claims_tests.rs"]
mod tests;
