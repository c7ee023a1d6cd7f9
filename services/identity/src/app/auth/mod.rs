//! `POST /v3/auth/tokens`: who the caller is (one of three methods), what
//! the token is for (its scope and the roles there), and the signed token.
//!
//! Every failure to authenticate or to be authorized for the requested
//! scope is the same [`unauthorized`] error, so a caller learns nothing
//! about which part was wrong (unknown user, bad password, disabled user
//! or domain, expired password, no role on the project...). The log and
//! the audit trail say which.

mod lockout;
mod methods;
pub mod scope;

use std::sync::Arc;
use std::time::Duration;

use virga_auth::{NamedRef, TokenClaims, UserRef, issue};
use virga_common::Error;

pub use lockout::Lockout;
pub(crate) use methods::{find_domain, find_user};
pub use scope::ScopeRequest;

use super::IdentityState;
use crate::db::{domain, user};

/// How the caller proves who they are.
#[derive(Debug, Clone)]
pub enum Method {
    Password {
        user: UserLocator,
        password: String,
    },
    /// An existing token, to rescope it.
    Token {
        id: String,
    },
    ApplicationCredential {
        credential: CredentialLocator,
        secret: String,
    },
    /// A user an identity provider vouched for and a mapping found or made
    /// (see `federation::login`), or a service's own user asking over the
    /// bus (`service_user`, protocol `service`); what is left is the usual
    /// enabled check.
    Mapped {
        user_id: String,
        federation: Option<virga_auth::Federation>,
        protocol: String,
    },
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::Password { .. } => "password",
            Method::Token { .. } => "token",
            Method::ApplicationCredential { .. } => "application_credential",
            Method::Mapped { .. } => "mapped",
        }
    }
}

/// A user by id, or by name within a domain given by id or name.
#[derive(Debug, Clone)]
pub enum UserLocator {
    Id(String),
    Name { name: String, domain: DomainLocator },
}

#[derive(Debug, Clone)]
pub enum DomainLocator {
    Id(String),
    Name(String),
}

/// An application credential by id, or by name for a user.
#[derive(Debug, Clone)]
pub enum CredentialLocator {
    Id(String),
    Name { name: String, user: UserLocator },
}

/// A token just issued: the signed JWT, what it says, and the user and
/// credential it was issued for (so rendering it reads them no second time).
pub struct Issued {
    pub token: String,
    pub claims: TokenClaims,
    pub user: user::Model,
    pub app_credential: Option<crate::db::application_credential::Model>,
}

/// What a method established: the user and how.
pub(crate) struct Authenticated {
    pub user: user::Model,
    pub user_domain: domain::Model,
    pub methods: Vec<String>,
    /// The token being rescoped (token method).
    pub parent: Option<Arc<TokenClaims>>,
    /// The credential used (application credential method); it fixes the scope.
    pub app_credential: Option<crate::db::application_credential::Model>,
    /// The identity provider login behind this one, kept through rescoping.
    pub federation: Option<virga_auth::Federation>,
}

/// Keystone's answer to every failed authentication.
pub fn unauthorized() -> Error {
    Error::Unauthorized(virga_service::auth::UNAUTHORIZED_MESSAGE.into())
}

/// Authenticates, resolves the scope and issues a token.
pub async fn issue_token(
    state: &IdentityState,
    method: Method,
    scope: ScopeRequest,
) -> Result<Issued, Error> {
    let who = methods::authenticate(state, method).await?;
    let (scope, roles) = scope::resolve(state, &who, scope).await?;
    let config = &state.ctx.config().auth;
    let now_ms = virga_service::auth::unix_now_ms();
    let now = now_ms / 1000;
    let user = UserRef {
        id: who.user.id.clone(),
        name: who.user.name.clone(),
        domain: NamedRef::new(&who.user_domain.id, &who.user_domain.name),
    };
    let roles = roles
        .into_iter()
        .map(|r| NamedRef::new(r.id, r.name))
        .collect();
    let mut claims = TokenClaims::new(
        config.issuer.clone(),
        user,
        scope,
        roles,
        who.methods.clone(),
        now,
        Duration::from_secs(config.token_lifetime_secs),
    )
    .issued_at(now_ms);
    if let Some(parent) = &who.parent {
        claims = claims.rescoped_from(parent);
    }
    claims = claims.with_federation(who.federation.clone());
    if let Some(cred) = &who.app_credential {
        claims = claims.with_app_credential(&cred.id);
        if let Some(expires) = cred.expires_at {
            let expires = u64::try_from(expires.timestamp()).unwrap_or(0);
            claims.exp = claims.exp.min(expires);
        }
    }
    let token = issue(&state.keys.ring(), &claims).map_err(Error::internal)?;
    Ok(Issued {
        token,
        claims,
        user: who.user,
        app_credential: who.app_credential,
    })
}
