//! [`Auth`]: the verified caller of a request, and the policy questions
//! handlers ask about it.
//!
//! Every way a token can fail (none, malformed, tampered, unknown key,
//! expired, revoked, wrong issuer) gets the same 401 with no hint; the log
//! says which. The 401 is keystonemiddleware's: Keystone's error body and a
//! `WWW-Authenticate: Keystone uri="<identity>"` header, in every service.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use virga_auth::{Scope, TokenClaims};
use virga_common::{Error, RequestId};
use virga_policy::{Credentials, Target};

use super::{Authenticator, VerifyError};
use crate::HasContext;

/// The header a client sends its token in.
pub const AUTH_TOKEN_HEADER: &str = "x-auth-token";

/// Keystone's words for every authentication failure.
pub const UNAUTHORIZED_MESSAGE: &str = "The request you have made requires authentication.";

pub struct Auth {
    claims: Arc<TokenClaims>,
    creds: Credentials,
    authenticator: Authenticator,
    request_id: Option<RequestId>,
    token: Option<Arc<str>>,
}

impl<S> FromRequestParts<S> for Auth
where
    S: HasContext + Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let authenticator = state.context().auth().clone();
        let Some(token) = parts
            .headers
            .get(AUTH_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            tracing::debug!("no token");
            return Err(unauthorized(&authenticator.identity_url()));
        };
        match authenticator.verify(token) {
            Ok(claims) => {
                let mut auth = Auth::new(Arc::new(claims), authenticator);
                auth.request_id = parts.extensions.get::<RequestId>().cloned();
                auth.token = Some(Arc::from(token));
                Ok(auth)
            }
            Err(VerifyError::NoKeys) => Err(Error::Unavailable(
                "The Keystone service is temporarily unavailable.".into(),
            )
            .into_response()),
            Err(e) => {
                tracing::info!(reason = %virga_common::error::chain(&e), "token refused");
                Err(unauthorized(&authenticator.identity_url()))
            }
        }
    }
}

impl Auth {
    pub fn new(claims: Arc<TokenClaims>, authenticator: Authenticator) -> Self {
        let creds = credentials(&claims);
        Auth {
            claims,
            creds,
            authenticator,
            request_id: None,
            token: None,
        }
    }

    /// The caller's token as it came, to ask another service on the
    /// caller's behalf (as Nova asks Glance with the user's token); None
    /// for an `Auth` not made from a request.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The request's id, for audit records.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.request_id.as_ref()
    }

    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// Whether the policy lets this caller do `action` on `target`. An
    /// action the policy does not define is refused and logged: a handler
    /// naming a rule that is not there is a bug, never an open door.
    pub fn allows(&self, action: &str, target: &Target) -> bool {
        match self
            .authenticator
            .policy()
            .enforce(action, &self.creds, target)
        {
            Ok(allowed) => allowed,
            Err(e) => {
                tracing::error!(action, error = %virga_common::error::chain(&e), "policy check failed");
                false
            }
        }
    }

    /// `action` on `target` or 403, in Keystone's words.
    pub fn enforce(&self, action: &str, target: &Target) -> Result<(), Error> {
        if self.allows(action, target) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "You are not authorized to perform the requested action: {action}."
            )))
        }
    }

    /// `action` on `target` or a 404 for `kind` `id`: for resources the
    /// caller may not see, whose existence must not be revealed.
    pub fn enforce_visible(
        &self,
        action: &str,
        target: &Target,
        kind: &'static str,
        id: &str,
    ) -> Result<(), Error> {
        if self.allows(action, target) {
            Ok(())
        } else {
            Err(Error::not_found(kind, id))
        }
    }
}

/// The policy's view of a token.
pub fn credentials(claims: &TokenClaims) -> Credentials {
    let mut creds = Credentials {
        user_id: Some(claims.sub.clone()),
        user_domain_id: Some(claims.user_domain.id.clone()),
        roles: claims.roles.iter().map(|r| r.name.clone()).collect(),
        ..Credentials::default()
    };
    match &claims.scope {
        Scope::Project { id, domain, .. } => {
            creds.project_id = Some(id.clone());
            creds.project_domain_id = Some(domain.id.clone());
        }
        Scope::Domain { id, .. } => creds.domain_id = Some(id.clone()),
        Scope::System => creds.system_scope = Some("all".into()),
        Scope::Unscoped => {}
    }
    creds
}

/// The 401 every service answers, as keystonemiddleware does.
pub fn unauthorized(identity_url: &str) -> Response {
    let body = serde_json::json!({"error": {
        "code": 401,
        "title": "Unauthorized",
        "message": UNAUTHORIZED_MESSAGE,
    }});
    let mut resp = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    let challenge = format!("Keystone uri=\"{identity_url}\"");
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}
