//! Which tokens are revoked before their expiry, with Keystone's revocation
//! event semantics: one token (by id or by audit id, which also catches the
//! tokens rescoped from it), or every token of a user or a project issued
//! at or before a time.
//!
//! The identity service broadcasts [`RevocationEvent`]s on the bus; every
//! service applies them to its own list and checks it on every request.
//! Checks take a shared read lock on a few hash maps (the benchmark example
//! measures well under a microsecond); events are rare, so writers are not
//! optimised.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::claims::TokenClaims;
use crate::token::LEEWAY_SECS;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RevocationEvent {
    /// One token; `expires_at` is its `exp`, after which the entry is pruned.
    Token { jti: Uuid, expires_at: u64 },
    /// Every token carrying this audit id: the token itself and, when it is a
    /// chain's first token, every token rescoped from it.
    AuditId { audit_id: String, expires_at: u64 },
    /// Every token of the user issued at or before `issued_before_ms`
    /// (unix milliseconds, compared with the token's [`TokenClaims::issued_at_ms`]).
    User {
        user_id: String,
        issued_before_ms: u64,
    },
    /// Every token scoped to the project issued at or before `issued_before_ms`.
    Project {
        project_id: String,
        issued_before_ms: u64,
    },
}

#[derive(Default)]
struct Entries {
    tokens: HashMap<Uuid, u64>,
    audit_ids: HashMap<String, u64>,
    users: HashMap<String, u64>,
    projects: HashMap<String, u64>,
}

#[derive(Default)]
pub struct RevocationList {
    entries: RwLock<Entries>,
}

impl RevocationList {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn revoke_token(&self, jti: Uuid, expires_at: u64) {
        self.apply(RevocationEvent::Token { jti, expires_at });
    }

    pub fn revoke_audit_id(&self, audit_id: impl Into<String>, expires_at: u64) {
        let audit_id = audit_id.into();
        self.apply(RevocationEvent::AuditId {
            audit_id,
            expires_at,
        });
    }

    pub fn revoke_user(&self, user_id: impl Into<String>, issued_before_ms: u64) {
        let user_id = user_id.into();
        self.apply(RevocationEvent::User {
            user_id,
            issued_before_ms,
        });
    }

    pub fn revoke_project(&self, project_id: impl Into<String>, issued_before_ms: u64) {
        let project_id = project_id.into();
        self.apply(RevocationEvent::Project {
            project_id,
            issued_before_ms,
        });
    }

    /// Applies an event. Events arrive at least once and in any order, so
    /// applying is idempotent and keeps the later time of two for one key.
    pub fn apply(&self, event: RevocationEvent) {
        let mut e = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let (map, key, time) = match event {
            RevocationEvent::Token { jti, expires_at } => {
                let t = e.tokens.entry(jti).or_insert(expires_at);
                *t = (*t).max(expires_at);
                return;
            }
            RevocationEvent::AuditId {
                audit_id,
                expires_at,
            } => (&mut e.audit_ids, audit_id, expires_at),
            RevocationEvent::User {
                user_id,
                issued_before_ms,
            } => (&mut e.users, user_id, issued_before_ms),
            RevocationEvent::Project {
                project_id,
                issued_before_ms,
            } => (&mut e.projects, project_id, issued_before_ms),
        };
        let t = map.entry(key).or_insert(time);
        *t = (*t).max(time);
    }

    /// Every live entry as an event, e.g. for a service that starts late
    /// and asks the identity service for the whole list.
    pub fn events(&self) -> Vec<RevocationEvent> {
        let e = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let tokens = e
            .tokens
            .iter()
            .map(|(&jti, &expires_at)| RevocationEvent::Token { jti, expires_at });
        let audit = e.audit_ids.iter().map(|(id, &t)| RevocationEvent::AuditId {
            audit_id: id.clone(),
            expires_at: t,
        });
        let users = e.users.iter().map(|(id, &t)| RevocationEvent::User {
            user_id: id.clone(),
            issued_before_ms: t,
        });
        let projects = e.projects.iter().map(|(id, &t)| RevocationEvent::Project {
            project_id: id.clone(),
            issued_before_ms: t,
        });
        tokens.chain(audit).chain(users).chain(projects).collect()
    }

    /// User and project events compare milliseconds, so a login right after
    /// a password change (the same second, a later millisecond) is not
    /// caught by the revocation meant for the tokens before it.
    pub fn is_revoked(&self, claims: &TokenClaims) -> bool {
        let e = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let issued_ms = claims.issued_at_ms();
        let issued_by = |map: &HashMap<String, u64>, key: &str| {
            map.get(key).is_some_and(|&before| issued_ms <= before)
        };
        e.tokens.contains_key(&claims.jti)
            || claims.audit_ids.iter().any(|a| e.audit_ids.contains_key(a))
            || issued_by(&e.users, &claims.sub)
            || claims
                .project_id()
                .is_some_and(|p| issued_by(&e.projects, p))
    }

    /// Drops entries that can no longer match an unexpired token: token
    /// entries past their expiry, user and project entries older than the
    /// longest token lifetime (plus leeway). Returns how many were dropped.
    pub fn prune(&self, now: u64, max_token_lifetime: Duration) -> usize {
        let mut e = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let before = e.len();
        let expired_since = now.saturating_sub(LEEWAY_SECS);
        let issued_since = expired_since.saturating_sub(max_token_lifetime.as_secs());
        e.tokens.retain(|_, &mut exp| exp >= expired_since);
        e.audit_ids.retain(|_, &mut exp| exp >= expired_since);
        e.users.retain(|_, &mut t| t / 1000 >= issued_since);
        e.projects.retain(|_, &mut t| t / 1000 >= issued_since);
        before - e.len()
    }

    pub fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Entries {
    fn len(&self) -> usize {
        self.tokens.len() + self.audit_ids.len() + self.users.len() + self.projects.len()
    }
}

#[cfg(test)]
#[path = "revocation_tests.rs"]
mod tests;
