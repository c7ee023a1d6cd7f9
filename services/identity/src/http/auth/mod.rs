//! `/v3/auth/*`: issuing, validating and revoking tokens, and what a token
//! gives access to (catalog, projects, domains, system); plus the JWKS
//! document other services and clients verify tokens with.

pub mod request;
pub mod view;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_auth::{Jwks, RevocationEvent};
use virga_common::Error;
use virga_policy::Target;
use virga_service::auth::Auth;

use crate::app::auth::issue_token;
use crate::app::catalog::{self, CatalogEntry};
use crate::app::{IdentityState, publish};
use request::{AuthRequest, scope_request};
use view::{Known, TokenResponse, render};

pub const SUBJECT_TOKEN_HEADER: &str = "x-subject-token";

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct TokenQuery {
    /// Present (with any value) to leave the catalog out of the body.
    pub nocatalog: Option<String>,
}

/// Authenticates and issues a token (password, token or application
/// credential method; project, domain, system or no scope). The token is
/// in the `X-Subject-Token` header, what it grants in the body.
#[utoipa::path(
    post,
    path = "/v3/auth/tokens",
    tag = "auth",
    params(TokenQuery),
    request_body = AuthRequest,
    responses(
        (status = 201, description = "Token issued", body = TokenResponse,
         headers(("X-Subject-Token" = String, description = "The token"))),
        (status = 400, description = "Malformed request"),
        (status = 401, description = "Authentication failed")
    )
)]
pub async fn create_token(
    State(state): State<IdentityState>,
    Query(query): Query<TokenQuery>,
    Json(req): Json<AuthRequest>,
) -> Response {
    let issued = async {
        let method = req.auth.identity.into_method()?;
        let scope = scope_request(req.auth.scope)?;
        let issued = issue_token(&state, method, scope).await?;
        let known = Known {
            user: Some(&issued.user),
            app_credential: issued.app_credential.as_ref(),
        };
        let body = render(&state, &issued.claims, query.nocatalog.is_none(), known).await?;
        Ok::<_, Error>((issued.token, body))
    }
    .await;
    match issued.and_then(|(token, body)| issued_response(&token, body)) {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

/// A token just issued: 201, the token in `X-Subject-Token`, its body.
pub fn issued_response(token: &str, body: TokenResponse) -> Result<Response, Error> {
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    let v = HeaderValue::from_str(token).map_err(Error::internal)?;
    resp.headers_mut().insert(SUBJECT_TOKEN_HEADER, v);
    Ok(resp)
}

/// The token in `X-Subject-Token`, verified; `NotFound` hides why it failed.
fn subject(state: &IdentityState, headers: &HeaderMap) -> Result<virga_auth::TokenClaims, Error> {
    let token = headers
        .get(SUBJECT_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::BadRequest("Expecting to find X-Subject-Token in headers.".into()))?;
    state.ctx.auth().verify(token).map_err(|e| {
        tracing::info!(reason = %virga_common::error::chain(&e), "subject token refused");
        Error::not_found("token", "in X-Subject-Token")
    })
}

fn token_target(claims: &virga_auth::TokenClaims) -> Target {
    Target::new().with("token_user_id", claims.sub.clone())
}

/// Validates the token in `X-Subject-Token` and shows what it grants.
#[utoipa::path(
    get,
    path = "/v3/auth/tokens",
    tag = "auth",
    params(TokenQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "The token is valid", body = TokenResponse),
        (status = 401, description = "The caller's own token is not valid"),
        (status = 404, description = "The subject token is not valid")
    )
)]
pub async fn validate_token(
    auth: Auth,
    State(state): State<IdentityState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let claims = subject(&state, &headers)?;
    auth.enforce("identity:validate_token", &token_target(&claims))?;
    let body = render(&state, &claims, query.nocatalog.is_none(), Known::default()).await?;
    let mut resp = Json(body).into_response();
    // The subject token verified, so the header is there and well-formed.
    if let Some(v) = headers.get(SUBJECT_TOKEN_HEADER) {
        resp.headers_mut().insert(SUBJECT_TOKEN_HEADER, v.clone());
    }
    Ok(resp)
}

/// Checks the token in `X-Subject-Token`: 200 if valid, no body.
#[utoipa::path(
    head,
    path = "/v3/auth/tokens",
    tag = "auth",
    security(("token" = [])),
    responses(
        (status = 200, description = "The token is valid"),
        (status = 404, description = "The subject token is not valid")
    )
)]
pub async fn check_token(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let claims = subject(&state, &headers)?;
    auth.enforce("identity:validate_token", &token_target(&claims))?;
    Ok(StatusCode::OK)
}

/// Revokes the token in `X-Subject-Token`, and every token rescoped from
/// it; every service stops accepting them within seconds.
#[utoipa::path(
    delete,
    path = "/v3/auth/tokens",
    tag = "auth",
    security(("token" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "The subject token is not valid")
    )
)]
pub async fn revoke_token(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let claims = subject(&state, &headers)?;
    auth.enforce("identity:revoke_token", &token_target(&claims))?;
    let event = RevocationEvent::AuditId {
        audit_id: claims.audit_ids.first().cloned().unwrap_or_default(),
        expires_at: claims.exp,
    };
    publish::revoke(&state, event).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogResponse {
    pub catalog: Vec<CatalogEntry>,
    pub links: crate::http::CollectionLinks,
}

/// The service catalog for the caller's token.
#[utoipa::path(
    get,
    path = "/v3/auth/catalog",
    tag = "auth",
    security(("token" = [])),
    responses(
        (status = 200, description = "The catalog", body = CatalogResponse),
        (status = 403, description = "The token is unscoped")
    )
)]
pub async fn auth_catalog(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
) -> Result<Json<CatalogResponse>, Error> {
    if auth.claims().scope == virga_auth::Scope::Unscoped {
        return Err(Error::Forbidden(
            "A scoped token is required to list the catalog.".into(),
        ));
    }
    let catalog = catalog::build(state.ctx.db(), auth.claims().project_id()).await?;
    Ok(Json(CatalogResponse {
        catalog,
        links: crate::http::CollectionLinks::plain(&state, &headers, "/v3/auth/catalog"),
    }))
}

/// Identity's public keys: what every service verifies tokens with.
#[utoipa::path(
    get,
    path = "/v3/auth/jwks",
    tag = "auth",
    responses((status = 200, description = "The JSON Web Key Set", body = Object))
)]
pub async fn jwks(State(state): State<IdentityState>) -> Json<Jwks> {
    Json(state.keys.jwks())
}
