//! Application credentials: a user hands an application a secret bound to
//! one project and to some of the roles the user holds there.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use virga_auth::RevocationEvent;
use virga_common::Error;
use virga_policy::Target;
use virga_service::auth::{Auth, unix_now_ms};

use super::{IdentityState, audit, publish};
use crate::db::application_credential::{self as store, NewApplicationCredential};
use crate::db::role;

const KIND: &str = "application credential";

/// A role the credential should carry, as the client names it.
#[derive(Debug, Clone)]
pub enum RoleRef {
    Id(String),
    Name(String),
}

/// What a create request asks for; the user and project come from the token.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    pub name: String,
    pub description: Option<String>,
    pub secret: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub unrestricted: bool,
    /// Empty: every role of the token.
    pub roles: Vec<RoleRef>,
}

/// A stored credential with its roles, and its secret right after creation.
pub struct Created {
    pub credential: store::Model,
    pub roles: Vec<role::Model>,
    pub secret: String,
}

fn target(user_id: &str) -> Target {
    Target::new().with("user_id", user_id)
}

/// A token made from a restricted application credential may not manage
/// application credentials (Keystone refuses it the same way).
async fn not_restricted(state: &IdentityState, auth: &Auth) -> Result<(), Error> {
    let Some(id) = &auth.claims().app_credential_id else {
        return Ok(());
    };
    let unrestricted = match store::get(state.ctx.db(), id).await {
        Ok(c) => c.unrestricted,
        Err(Error::NotFound { .. }) => false,
        Err(e) => return Err(e),
    };
    if unrestricted {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.".into(),
        ))
    }
}

/// Creates a credential for the caller on the token's project. Its roles
/// must be among the token's; the secret is generated unless given, stored
/// only as an argon2 hash and returned here once.
pub async fn create(
    state: &IdentityState,
    auth: &Auth,
    user_id: &str,
    req: CreateRequest,
) -> Result<Created, Error> {
    auth.enforce_visible(
        "identity:create_application_credential",
        &target(user_id),
        "user",
        user_id,
    )?;
    if auth.claims().sub != user_id {
        return Err(Error::Forbidden(
            "You are not authorized to perform the requested action: Cannot create an application credential for another user.".into(),
        ));
    }
    not_restricted(state, auth).await?;
    let project_id = auth.claims().project_id().map(String::from).ok_or_else(|| {
        Error::BadRequest(
            "Invalid application credential: an application credential needs a project-scoped token.".into(),
        )
    })?;
    if req.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(Error::BadRequest(
            "The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.".into(),
        ));
    }
    let role_ids = chosen_roles(auth, &req.roles)?;
    let secret = match req.secret.filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => generate_secret()?,
    };
    let to_hash = secret.clone();
    let secret_hash = tokio::task::spawn_blocking(move || virga_auth::hash_password(&to_hash))
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?
        .to_phc();
    let new = NewApplicationCredential {
        user_id: user_id.to_string(),
        project_id,
        name: req.name,
        description: req.description,
        secret_hash,
        expires_at: req.expires_at,
        unrestricted: req.unrestricted,
        role_ids,
    };
    let credential = store::create(state.ctx.db(), new).await?;
    audit::change(
        state,
        auth,
        "identity:create_application_credential",
        KIND,
        &credential.id,
    )
    .await;
    let roles = role::get_many(state.ctx.db(), &credential.role_ids()?).await?;
    Ok(Created {
        credential,
        roles,
        secret,
    })
}

/// The token's roles the request names, by id or name; all of them when it
/// names none. A role the token lacks is Keystone's 400.
fn chosen_roles(auth: &Auth, wanted: &[RoleRef]) -> Result<Vec<String>, Error> {
    let held = &auth.claims().roles;
    if wanted.is_empty() {
        return Ok(held.iter().map(|r| r.id.clone()).collect());
    }
    let mut ids = Vec::new();
    for w in wanted {
        let found = held.iter().find(|r| match w {
            RoleRef::Id(id) => r.id == *id,
            RoleRef::Name(name) => r.name == *name,
        });
        let Some(r) = found else {
            return Err(Error::BadRequest(
                "Invalid application credential: Cannot create an application credential with unassigned role".into(),
            ));
        };
        if !ids.contains(&r.id) {
            ids.push(r.id.clone());
        }
    }
    Ok(ids)
}

/// 32 random bytes, base64url without padding.
fn generate_secret() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(Error::internal)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A user's credential with its roles; another user's is 404.
pub async fn get(
    state: &IdentityState,
    auth: &Auth,
    user_id: &str,
    id: &str,
) -> Result<(store::Model, Vec<role::Model>), Error> {
    auth.enforce_visible(
        "identity:get_application_credential",
        &target(user_id),
        KIND,
        id,
    )?;
    let c = store::get_for_user(state.ctx.db(), user_id, id).await?;
    let roles = role::get_many(state.ctx.db(), &c.role_ids()?).await?;
    Ok((c, roles))
}

pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    user_id: &str,
    name: Option<&str>,
) -> Result<Vec<(store::Model, Vec<role::Model>)>, Error> {
    auth.enforce_visible(
        "identity:list_application_credentials",
        &target(user_id),
        "user",
        user_id,
    )?;
    let db = state.ctx.db();
    let mut out = Vec::new();
    for c in store::list(db, user_id, name).await? {
        let roles = role::get_many(db, &c.role_ids()?).await?;
        out.push((c, roles));
    }
    Ok(out)
}

/// Deletes a credential. Tokens do not name their credential in the
/// revocation list, so every token of the user issued until now is revoked:
/// the credential's tokens stop at once, at the cost of the user's others.
pub async fn delete(
    state: &IdentityState,
    auth: &Auth,
    user_id: &str,
    id: &str,
) -> Result<(), Error> {
    auth.enforce_visible(
        "identity:delete_application_credential",
        &target(user_id),
        KIND,
        id,
    )?;
    not_restricted(state, auth).await?;
    store::delete(state.ctx.db(), user_id, id).await?;
    let event = RevocationEvent::User {
        user_id: user_id.to_string(),
        issued_before_ms: unix_now_ms(),
    };
    publish::revoke(state, event).await?;
    audit::change(
        state,
        auth,
        "identity:delete_application_credential",
        KIND,
        id,
    )
    .await;
    Ok(())
}
