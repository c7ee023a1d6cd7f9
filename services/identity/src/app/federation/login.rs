//! A federated login: the provider's claims, through the protocol's
//! mapping, become a local user (a shadow user provisioned on first login,
//! or an existing local one) and group memberships that expire, and an
//! unscoped token with Keystone's `OS-FEDERATION` block. The caller then
//! rescopes it with the token method, as keystoneauth does.

use chrono::Utc;
use sha2::{Digest, Sha256};
use virga_auth::Federation;
use virga_common::Error;

use super::mapping::rules_of;
use super::oidc::{Claims, OidcError};
use super::rules::{self, DomainRef, MappedGroup, MappedUser, UserType};
use crate::app::IdentityState;
use crate::app::audit::{self, Outcome, Record};
use crate::app::auth::{
    DomainLocator, Issued, Method, ScopeRequest, UserLocator, find_domain, find_user, issue_token,
    unauthorized,
};
use crate::db::federation::identity_provider::{self as idp, OidcSettings};
use crate::db::federation::{federated_user, mapping, membership, protocol};
use crate::db::{group, user};

/// The provider and protocol a login goes through, checked usable.
pub struct Entry {
    pub idp: idp::Model,
    pub protocol: protocol::Model,
    pub oidc: OidcSettings,
}

/// Finds the provider and protocol: unknown is 404, a disabled provider
/// 403 (Keystone's answers), one without an OpenID Connect client 400.
pub async fn entry(state: &IdentityState, idp_id: &str, protocol_id: &str) -> Result<Entry, Error> {
    let db = state.ctx.db();
    let provider = idp::get(db, idp_id).await?;
    let protocol = protocol::get(db, idp_id, protocol_id).await?;
    if !provider.enabled {
        return Err(Error::Forbidden(format!(
            "Identity Provider {idp_id} is disabled."
        )));
    }
    let oidc = provider.oidc().ok_or_else(|| {
        Error::BadRequest(format!(
            "Identity Provider {idp_id} has no OpenID Connect client configured."
        ))
    })?;
    let remote = idp::remote_ids(db, std::slice::from_ref(&provider.id)).await?;
    if let Some(ids) = remote.get(&provider.id)
        && !ids.contains(&oidc.issuer)
    {
        return Err(Error::Forbidden(
            "Incoming identity provider identifier not included among the accepted identifiers."
                .into(),
        ));
    }
    Ok(Entry {
        idp: provider,
        protocol,
        oidc,
    })
}

/// How a provider's refusal or absence shows: a refused token is the
/// uniform 401, an unreachable provider 503.
pub fn oidc_error(e: OidcError) -> Error {
    match e {
        OidcError::Refused(why) => {
            tracing::info!(%why, "federated login refused");
            unauthorized()
        }
        e @ OidcError::Unavailable { .. } => {
            tracing::warn!(error = %virga_common::error::chain(&e), "identity provider unavailable");
            Error::Unavailable("The identity provider is unavailable; try again later.".into())
        }
    }
}

/// Logs in with a bearer token from the provider (an id_token or access token).
pub async fn with_bearer(
    state: &IdentityState,
    idp_id: &str,
    protocol_id: &str,
    bearer: &str,
) -> Result<Issued, Error> {
    let entry = entry(state, idp_id, protocol_id).await?;
    let claims = state
        .oidc
        .bearer_claims(&entry.oidc, bearer)
        .await
        .map_err(oidc_error)?;
    login(state, &entry, claims).await
}

/// Maps verified claims to a user and groups and issues an unscoped token.
pub async fn login(state: &IdentityState, entry: &Entry, claims: Claims) -> Result<Issued, Error> {
    let db = state.ctx.db();
    let rules = rules_of(&mapping::get(db, &entry.protocol.mapping_id).await?)?;
    let assertion = rules::assertion_from_claims(&claims);
    let refused = |why: &str| {
        tracing::info!(idp = %entry.idp.id, reason = why, "federated login refused");
        unauthorized()
    };
    let mapped = match rules::apply(&rules, &assertion) {
        Ok(Some(m)) => m,
        Ok(None) => return Err(refused("Could not map any federated user properties")),
        Err(e) => return Err(refused(&e)),
    };
    let who = mapped
        .user
        .ok_or_else(|| refused("the mapping names no user"))?;
    let groups = resolve_groups(state, &mapped.groups).await?;
    let (user, federation) = match who.kind {
        UserType::Local => (local_user(state, entry, &who).await?, None),
        UserType::Ephemeral => {
            let u = shadow_user(state, entry, &who).await?;
            let f = Federation {
                identity_provider: entry.idp.id.clone(),
                protocol: entry.protocol.id.clone(),
                groups: groups.clone(),
            };
            (u, Some(f))
        }
    };
    let minutes = entry.idp.authorization_ttl.map(i64::from);
    let ttl = match minutes {
        Some(m) => chrono::TimeDelta::minutes(m),
        None => chrono::TimeDelta::seconds(state.ctx.config().auth.token_lifetime_secs as i64),
    };
    membership::replace(db, &user.id, &entry.idp.id, &groups, Utc::now() + ttl).await?;
    let method = Method::Mapped {
        user_id: user.id,
        federation,
        protocol: entry.protocol.id.clone(),
    };
    issue_token(state, method, ScopeRequest::Unscoped).await
}

/// The ids of the mapped groups that exist; the rest are skipped, since a
/// provider's groups need not all mean something here.
async fn resolve_groups(
    state: &IdentityState,
    mapped: &[MappedGroup],
) -> Result<Vec<String>, Error> {
    let db = state.ctx.db();
    let mut ids = Vec::new();
    for g in mapped {
        let found = match g {
            MappedGroup::Id(id) => match group::get(db, id).await {
                Ok(g) => Some(g),
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            },
            MappedGroup::Name { name, domain } => match domain_id(state, domain).await? {
                Some(d) => group::find_by_name(db, &d, name).await?,
                None => None,
            },
        };
        match found {
            Some(g) => ids.push(g.id),
            None => tracing::debug!(group = ?g, "mapped group does not exist; skipped"),
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// A mapping's domain reference as a locator; None when it names none.
fn locator(d: &DomainRef) -> Option<DomainLocator> {
    match (&d.id, &d.name) {
        (Some(id), _) => Some(DomainLocator::Id(id.clone())),
        (None, Some(name)) => Some(DomainLocator::Name(name.clone())),
        (None, None) => None,
    }
}

async fn domain_id(state: &IdentityState, d: &DomainRef) -> Result<Option<String>, Error> {
    match locator(d) {
        Some(l) => Ok(find_domain(state, &l).await?.map(|d| d.id)),
        None => Ok(None),
    }
}

/// The domain a mapped user lives in: the mapping's, else the provider's.
async fn user_domain(
    state: &IdentityState,
    entry: &Entry,
    who: &MappedUser,
) -> Result<String, Error> {
    match &who.domain {
        None => Ok(entry.idp.domain_id.clone()),
        Some(d) => domain_id(state, d).await?.ok_or_else(|| {
            tracing::info!(domain = ?d, "federated login refused: mapped domain unknown");
            unauthorized()
        }),
    }
}

/// `type: local`: an existing user, by id or by name in its domain.
async fn local_user(
    state: &IdentityState,
    entry: &Entry,
    who: &MappedUser,
) -> Result<user::Model, Error> {
    let locator = match (&who.id, &who.name) {
        (Some(id), _) => Some(UserLocator::Id(id.clone())),
        (None, Some(name)) => Some(UserLocator::Name {
            name: name.clone(),
            domain: DomainLocator::Id(user_domain(state, entry, who).await?),
        }),
        (None, None) => None,
    };
    let found = match locator {
        Some(l) => find_user(state, &l).await?,
        None => None,
    };
    found.ok_or_else(|| {
        tracing::info!(idp = %entry.idp.id, "federated login refused: mapped local user unknown");
        unauthorized()
    })
}

/// Keystone's shadow user id: sha256 of the domain, the entity type and
/// the provider's id for the user, so every identity service instance
/// derives the same id and a concurrent first login cannot make two.
fn shadow_id(domain_id: &str, unique_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(domain_id.as_bytes());
    h.update(b"user");
    h.update(unique_id.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `type: ephemeral`: the user provisioned for this provider's user,
/// created on its first login, renamed when the provider renames it.
async fn shadow_user(
    state: &IdentityState,
    entry: &Entry,
    who: &MappedUser,
) -> Result<user::Model, Error> {
    let db = state.ctx.db();
    let unique_id = who
        .id
        .clone()
        .or_else(|| who.name.clone())
        .unwrap_or_default();
    let name = who.name.clone().unwrap_or_else(|| unique_id.clone());
    for (what, v) in [("id", &unique_id), ("name", &name)] {
        if v.is_empty() || v.chars().count() > 255 {
            tracing::info!(
                what,
                "federated login refused: mapped user {what} empty or too long"
            );
            return Err(unauthorized());
        }
    }
    let (idp_id, proto) = (&entry.idp.id, &entry.protocol.id);
    if let Some(link) = federated_user::find(db, idp_id, proto, &unique_id).await? {
        let u = user::get(db, &link.user_id).await?;
        return rename(state, u, &name).await;
    }
    let domain_id = user_domain(state, entry, who).await?;
    let id = shadow_id(&domain_id, &unique_id);
    let txn = virga_db::begin_write(db).await.map_err(Error::internal)?;
    let new = user::NewUser {
        name: name.clone(),
        domain_id: domain_id.clone(),
        enabled: true,
        ..Default::default()
    };
    let created = match user::create_with_id(&txn, id.clone(), new).await {
        Ok(u) => u,
        Err(Error::Conflict(_)) => {
            drop(txn);
            // Our id already exists: a concurrent first login won. Otherwise
            // the name belongs to a local user, which a provider must not
            // take over.
            return match user::get(db, &id).await {
                Ok(u) => Ok(u),
                Err(Error::NotFound { .. }) => Err(Error::Conflict(format!(
                    "A user named {name} already exists in domain {domain_id}; \
                     the identity provider's user cannot be provisioned."
                ))),
                Err(e) => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    let link = federated_user::Model {
        idp_id: idp_id.clone(),
        protocol_id: proto.clone(),
        unique_id,
        user_id: created.id.clone(),
        display_name: Some(name),
    };
    federated_user::create(&txn, link).await?;
    txn.commit().await.map_err(Error::internal)?;
    let record = Record {
        action: "identity:provision_federated_user",
        target_type: "user",
        target_id: &created.id,
        outcome: Outcome::Success,
        detail: serde_json::json!({"identity_provider": idp_id, "protocol": proto}),
    };
    audit::emit(state, None, record).await;
    Ok(created)
}

/// Follows a rename at the provider, unless the new name is taken here.
async fn rename(state: &IdentityState, u: user::Model, name: &str) -> Result<user::Model, Error> {
    if u.name == name {
        return Ok(u);
    }
    let change = user::UserUpdate {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    match user::update(state.ctx.db(), &u.id, change).await {
        Ok(renamed) => Ok(renamed),
        Err(Error::Conflict(_)) => {
            tracing::warn!(user = %u.id, new_name = name, "federated user keeps its name: the new one is taken");
            Ok(u)
        }
        Err(e) => Err(e),
    }
}
