//! Users: policy checks (another user the caller may not see is a 404),
//! password hashing off the async runtime, revocation of a disabled,
//! re-passworded or deleted user's tokens, and the audit trail.

use std::time::Instant;

use virga_auth::{PasswordHash, RevocationEvent, verify_dummy, verify_password};
use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_policy::Target;
use virga_service::auth::{Auth, unix_now_ms};

use super::audit::{self, Outcome, Record};
use super::auth::unauthorized;
use super::{IdentityState, publish};
use crate::db::domain;
use crate::db::group;
use crate::db::user::{self, NewUser, UserFilter, UserUpdate};

const KIND: &str = "user";

/// Keystone's `max_password_length`: argon2 takes any length, but a
/// megabyte "password" is a denial of service.
pub const MAX_PASSWORD: usize = 4096;

fn target(u: &user::Model) -> Target {
    Target::new()
        .with("user_id", u.id.clone())
        .with("domain_id", u.domain_id.clone())
}

/// A user to create; the password is still in clear and is hashed here.
#[derive(Default)]
pub struct UserCreate {
    pub name: String,
    pub domain_id: String,
    pub enabled: bool,
    pub password: Option<String>,
    pub default_project_id: Option<String>,
}

/// A change to a user; `Some(None)` clears a field.
#[derive(Default)]
pub struct UserChange {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub password: Option<Option<String>>,
    pub default_project_id: Option<Option<String>>,
}

pub fn check_password(field: &str, password: &str) -> Result<(), Error> {
    if password.len() > MAX_PASSWORD {
        return Err(Error::BadRequest(format!(
            "Invalid input for field '{field}': a password has at most {MAX_PASSWORD} bytes."
        )));
    }
    Ok(())
}

/// Hashes off the async runtime: argon2 is deliberately slow.
async fn hash(password: String) -> Result<PasswordHash, Error> {
    tokio::task::spawn_blocking(move || virga_auth::hash_password(&password))
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)
}

async fn hash_opt(password: Option<String>) -> Result<Option<PasswordHash>, Error> {
    match password {
        Some(p) => Ok(Some(hash(p).await?)),
        None => Ok(None),
    }
}

pub async fn get(state: &IdentityState, auth: &Auth, id: &str) -> Result<user::Model, Error> {
    let u = user::get(state.ctx.db(), id).await?;
    auth.enforce_visible("identity:get_user", &target(&u), KIND, id)?;
    Ok(u)
}

pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    filter: &UserFilter,
    page: &PageRequest,
) -> Result<Page<user::Model>, Error> {
    let t = Target::new().with_opt("domain_id", filter.domain_id.clone());
    auth.enforce("identity:list_users", &t)?;
    user::list(state.ctx.db(), filter, page).await
}

pub async fn create(
    state: &IdentityState,
    auth: &Auth,
    new: UserCreate,
) -> Result<user::Model, Error> {
    let t = Target::new().with("domain_id", new.domain_id.clone());
    auth.enforce("identity:create_user", &t)?;
    domain::get(state.ctx.db(), &new.domain_id).await?;
    let password = hash_opt(new.password).await?;
    let u = user::create(
        state.ctx.db(),
        NewUser {
            name: new.name,
            domain_id: new.domain_id,
            enabled: new.enabled,
            password,
            default_project_id: new.default_project_id,
            password_expires_at: None,
        },
    )
    .await?;
    audit::change(state, auth, "identity:create_user", KIND, &u.id).await;
    Ok(u)
}

/// Disabling a user or setting its password ends its tokens.
pub async fn update(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    change: UserChange,
) -> Result<user::Model, Error> {
    let before = get(state, auth, id).await?;
    auth.enforce("identity:update_user", &target(&before))?;
    let disabling = change.enabled == Some(false) && before.enabled;
    let new_password = change.password.is_some();
    let password = match change.password {
        Some(p) => Some(hash_opt(p).await?),
        None => None,
    };
    let update = UserUpdate {
        name: change.name,
        enabled: change.enabled,
        // A new password starts a new life: any expiry went with the old one.
        password_expires_at: password.as_ref().map(|_| None),
        password,
        default_project_id: change.default_project_id,
    };
    let u = user::update(state.ctx.db(), id, update).await?;
    if disabling || new_password {
        revoke_user_tokens(state, id).await?;
    }
    audit::change(state, auth, "identity:update_user", KIND, id).await;
    Ok(u)
}

/// Deletes a user with its assignments (memberships and application
/// credentials cascade) in one transaction, and ends its tokens.
pub async fn delete(state: &IdentityState, auth: &Auth, id: &str) -> Result<(), Error> {
    let u = get(state, auth, id).await?;
    auth.enforce("identity:delete_user", &target(&u))?;
    let txn = virga_db::begin_write(state.ctx.db())
        .await
        .map_err(Error::internal)?;
    user::delete(&txn, id).await?;
    txn.commit().await.map_err(Error::internal)?;
    revoke_user_tokens(state, id).await?;
    audit::change(state, auth, "identity:delete_user", KIND, id).await;
    Ok(())
}

/// A user changes its own password, proving it with the current one (no
/// token needed, as in Keystone). Every failure is the one uniform 401,
/// counted by the login lockout; success ends the user's tokens.
pub async fn change_password(
    state: &IdentityState,
    id: &str,
    original: String,
    password: String,
) -> Result<(), Error> {
    let db = state.ctx.db();
    let found = match user::get(db, id).await {
        Ok(u) => Some(u),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let key = format!("user:{id}");
    if !state.lockout.allows(&key, Instant::now()) {
        tracing::warn!(%key, "password change refused: too many failures");
        return Err(unauthorized());
    }
    let hash_now = match &found {
        Some(u) => u.password()?,
        None => None,
    };
    let matched = tokio::task::spawn_blocking(move || match hash_now {
        Some(h) => verify_password(&original, &h),
        None => verify_dummy(&original),
    })
    .await
    .map_err(Error::internal)?;
    let user = match found {
        Some(u) if matched => u,
        _ => {
            state.lockout.record_failure(&key, Instant::now());
            tracing::info!(user = %id, "password change refused: wrong original password");
            fail(state, id).await;
            return Err(unauthorized());
        }
    };
    state.lockout.record_success(&key);
    if !user.enabled {
        tracing::info!(user = %id, "password change refused: user disabled");
        fail(state, id).await;
        return Err(unauthorized());
    }
    let update = UserUpdate {
        password: Some(Some(hash(password).await?)),
        password_expires_at: Some(None),
        ..Default::default()
    };
    user::update(db, id, update).await?;
    revoke_user_tokens(state, id).await?;
    audit::emit(state, None, record(id, Outcome::Success)).await;
    Ok(())
}

fn record(id: &str, outcome: Outcome) -> Record<'_> {
    Record {
        action: "identity:change_password",
        target_type: KIND,
        target_id: id,
        outcome,
        detail: serde_json::Value::Null,
    }
}

async fn fail(state: &IdentityState, id: &str) {
    audit::emit(state, None, record(id, Outcome::Failure)).await;
}

/// The groups `user_id` belongs to (the user or admin).
pub async fn groups(
    state: &IdentityState,
    auth: &Auth,
    user_id: &str,
) -> Result<Vec<group::Model>, Error> {
    let t = Target::new().with("user_id", user_id.to_string());
    auth.enforce_visible("identity:list_groups_for_user", &t, KIND, user_id)?;
    let db = state.ctx.db();
    user::get(db, user_id).await?;
    group::groups_of(db, user_id).await
}

/// Ends every token `user_id` holds now.
pub async fn revoke_user_tokens(state: &IdentityState, user_id: &str) -> Result<(), Error> {
    let event = RevocationEvent::User {
        user_id: user_id.to_string(),
        issued_before_ms: unix_now_ms(),
    };
    publish::revoke(state, event).await
}
