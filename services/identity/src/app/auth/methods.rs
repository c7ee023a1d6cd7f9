//! The three ways to authenticate: a password, an existing token, an
//! application credential. Each ends with an enabled user in an enabled
//! domain, or with [`unauthorized`].

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use virga_auth::{PasswordHash, verify_dummy, verify_password};
use virga_common::Error;

use super::{Authenticated, CredentialLocator, DomainLocator, Method, UserLocator, unauthorized};
use crate::app::IdentityState;
use crate::db::{application_credential, domain, user};

pub(super) async fn authenticate(
    state: &IdentityState,
    method: Method,
) -> Result<Authenticated, Error> {
    match method {
        Method::Password { user, password } => by_password(state, &user, password).await,
        Method::Token { id } => by_token(state, &id).await,
        Method::ApplicationCredential { credential, secret } => {
            by_app_credential(state, &credential, secret).await
        }
        Method::Mapped {
            user_id,
            federation,
            protocol,
        } => {
            let user = user::get(state.ctx.db(), &user_id)
                .await
                .map_err(not_found_is_unauthorized)?;
            let mut who = finish(state, user, vec![protocol], None, None).await?;
            who.federation = federation;
            Ok(who)
        }
    }
}

async fn by_password(
    state: &IdentityState,
    locator: &UserLocator,
    password: String,
) -> Result<Authenticated, Error> {
    let (found, domain) = match locate_user(state, locator).await? {
        Some((u, d)) => (Some(u), d),
        None => (None, None),
    };
    // Keyed by the user when it exists, by the name asked for when not, so
    // both cases lock out alike.
    let key = match &found {
        Some(u) => format!("user:{}", u.id),
        None => format!("locator:{locator:?}"),
    };
    let hash = match &found {
        Some(u) => u.password()?,
        None => None,
    };
    guarded_check(state, &key, password, hash).await?;
    let user = found.ok_or_else(unauthorized)?;
    if user.password_expires_at.is_some_and(|at| at <= Utc::now()) {
        tracing::info!(user = %user.id, "login failed: password expired");
        return Err(unauthorized());
    }
    finish_known(state, user, domain, vec!["password".into()]).await
}

/// A secret check behind the lockout: refused unseen while `key` is locked
/// out, counted as a failure when wrong, clearing the count when right.
async fn guarded_check(
    state: &IdentityState,
    key: &str,
    secret: String,
    hash: Option<PasswordHash>,
) -> Result<(), Error> {
    let lockout = &state.lockout;
    if !lockout.allows(key, Instant::now()) {
        tracing::warn!(%key, "login refused: too many failures");
        return Err(unauthorized());
    }
    if !check_secret(secret, hash).await? {
        lockout.record_failure(key, Instant::now());
        tracing::info!(%key, "login failed: unknown name or wrong secret");
        return Err(unauthorized());
    }
    lockout.record_success(key);
    Ok(())
}

/// Verifies off the async runtime: argon2 is deliberately slow. With no
/// hash (no such user, or a user without a password) a dummy hash is
/// checked, so the answer takes as long as a real miss.
async fn check_secret(secret: String, hash: Option<PasswordHash>) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password(&secret, &h),
        None => {
            verify_dummy(&secret);
            false
        }
    })
    .await
    .map_err(Error::internal)
}

async fn by_token(state: &IdentityState, token: &str) -> Result<Authenticated, Error> {
    let claims = state.ctx.auth().verify(token).map_err(|e| {
        tracing::info!(reason = %virga_common::error::chain(&e), "rescope refused: bad token");
        unauthorized()
    })?;
    // An application credential's token is bound to its project and roles;
    // rescoping would escape them (Keystone refuses it too).
    if claims.app_credential_id.is_some() {
        tracing::info!(user = %claims.sub, "rescope refused: application credential token");
        return Err(unauthorized());
    }
    let user = user::get(state.ctx.db(), &claims.sub)
        .await
        .map_err(not_found_is_unauthorized)?;
    let mut methods = claims.methods.clone();
    if !methods.iter().any(|m| m == "token") {
        methods.push("token".into());
    }
    let federation = claims.federation.clone();
    let mut who = finish(state, user, methods, Some(Arc::new(claims)), None).await?;
    who.federation = federation;
    Ok(who)
}

async fn by_app_credential(
    state: &IdentityState,
    locator: &CredentialLocator,
    secret: String,
) -> Result<Authenticated, Error> {
    let db = state.ctx.db();
    let cred = match locator {
        CredentialLocator::Id(id) => application_credential::get(db, id).await,
        CredentialLocator::Name { name, user } => match find_user(state, user).await? {
            Some(u) => application_credential::list(db, &u.id, Some(name))
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| Error::not_found("application credential", name)),
            None => Err(Error::not_found("application credential", name)),
        },
    };
    let cred = match cred {
        Ok(c) => Some(c),
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let key = match &cred {
        Some(c) => format!("appcred:{}", c.id),
        None => format!("appcred-locator:{locator:?}"),
    };
    let hash = cred
        .as_ref()
        .map(|c| PasswordHash::from_phc(&c.secret_hash).map_err(Error::internal))
        .transpose()?;
    guarded_check(state, &key, secret, hash).await?;
    let cred = cred.ok_or_else(unauthorized)?;
    if cred.expires_at.is_some_and(|at| at <= Utc::now()) {
        tracing::info!(credential = %cred.id, "application credential expired");
        return Err(unauthorized());
    }
    let user = user::get(db, &cred.user_id)
        .await
        .map_err(not_found_is_unauthorized)?;
    finish(
        state,
        user,
        vec!["application_credential".into()],
        None,
        Some(cred),
    )
    .await
}

/// [`finish`] with the user's domain when the caller read it already.
async fn finish_known(
    state: &IdentityState,
    user: user::Model,
    domain: Option<domain::Model>,
    methods: Vec<String>,
) -> Result<Authenticated, Error> {
    match domain {
        Some(d) if d.id == user.domain_id => check_enabled(user, d, methods, None, None),
        _ => finish(state, user, methods, None, None).await,
    }
}

/// The user must be enabled and so must its domain.
async fn finish(
    state: &IdentityState,
    user: user::Model,
    methods: Vec<String>,
    parent: Option<Arc<virga_auth::TokenClaims>>,
    app_credential: Option<application_credential::Model>,
) -> Result<Authenticated, Error> {
    let user_domain = domain::get(state.ctx.db(), &user.domain_id).await?;
    check_enabled(user, user_domain, methods, parent, app_credential)
}

fn check_enabled(
    user: user::Model,
    user_domain: domain::Model,
    methods: Vec<String>,
    parent: Option<Arc<virga_auth::TokenClaims>>,
    app_credential: Option<application_credential::Model>,
) -> Result<Authenticated, Error> {
    if !user.enabled || !user_domain.enabled {
        tracing::info!(user = %user.id, "login refused: user or domain disabled");
        return Err(unauthorized());
    }
    Ok(Authenticated {
        user,
        user_domain,
        methods,
        parent,
        app_credential,
        federation: None,
    })
}

/// The user a locator names, or None when there is none.
pub(crate) async fn find_user(
    state: &IdentityState,
    locator: &UserLocator,
) -> Result<Option<user::Model>, Error> {
    Ok(locate_user(state, locator).await?.map(|(u, _)| u))
}

/// [`find_user`], with the domain read on the way when the locator named
/// one, so the login does not read it again.
async fn locate_user(
    state: &IdentityState,
    locator: &UserLocator,
) -> Result<Option<(user::Model, Option<domain::Model>)>, Error> {
    let db = state.ctx.db();
    let found = match locator {
        UserLocator::Id(id) => user::get(db, id).await.map(|u| (u, None)),
        UserLocator::Name { name, domain } => match find_domain(state, domain).await? {
            Some(d) => user::get_by_name(db, &d.id, name)
                .await
                .map(|u| (u, Some(d))),
            None => return Ok(None),
        },
    };
    match found {
        Ok(u) => Ok(Some(u)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) async fn find_domain(
    state: &IdentityState,
    locator: &DomainLocator,
) -> Result<Option<domain::Model>, Error> {
    let db = state.ctx.db();
    let found = match locator {
        DomainLocator::Id(id) => domain::get(db, id).await,
        DomainLocator::Name(name) => domain::get_by_name(db, name).await,
    };
    match found {
        Ok(d) => Ok(Some(d)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn not_found_is_unauthorized(e: Error) -> Error {
    match e {
        Error::NotFound { .. } => unauthorized(),
        other => other,
    }
}
