//! Federated logins: the CLI's bearer exchange (keystoneauth's
//! `v3oidcaccesstoken`) and the browser's single sign-on.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use virga_common::Error;

use crate::app::IdentityState;
use crate::app::auth::unauthorized;
use crate::app::federation::{login, websso};
use crate::http::auth::issued_response;
use crate::http::auth::view::{Known, TokenResponse, render};

mod page;

/// The cookie binding a browser login to the browser that began it.
const SSO_COOKIE: &str = "virga_sso_state";

/// Exchanges the identity provider's token in `Authorization: Bearer`
/// (an id_token issued to the provider's Virga client, or an access token
/// its userinfo endpoint accepts) for an unscoped Virga token. Rescope it
/// with the token method.
#[utoipa::path(post, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/auth",
    tag = "federation",
    params(("idp_id" = String, Path, description = "The provider"),
           ("protocol_id" = String, Path, description = "The protocol, e.g. openid")),
    responses((status = 201, description = "Token issued", body = TokenResponse,
               headers(("X-Subject-Token" = String, description = "The token"))),
              (status = 401, description = "No, an invalid or an unmappable token"),
              (status = 403, description = "The provider is disabled"),
              (status = 404, description = "No such provider or protocol"),
              (status = 503, description = "The provider cannot be reached")))]
pub async fn federated_auth(
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((idp_id, protocol_id)): Path<(String, String)>,
) -> Result<Response, Error> {
    exchange(&state, &headers, &idp_id, &protocol_id).await
}

/// The same exchange by GET, which Keystone also answers.
#[utoipa::path(get, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/auth",
    tag = "federation",
    params(("idp_id" = String, Path, description = "The provider"),
           ("protocol_id" = String, Path, description = "The protocol, e.g. openid")),
    responses((status = 201, description = "Token issued", body = TokenResponse,
               headers(("X-Subject-Token" = String, description = "The token"))),
              (status = 401, description = "No, an invalid or an unmappable token")))]
pub async fn federated_auth_get(
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((idp_id, protocol_id)): Path<(String, String)>,
) -> Result<Response, Error> {
    exchange(&state, &headers, &idp_id, &protocol_id).await
}

async fn exchange(
    state: &IdentityState,
    headers: &HeaderMap,
    idp_id: &str,
    protocol_id: &str,
) -> Result<Response, Error> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(unauthorized)?;
    let issued = login::with_bearer(state, idp_id, protocol_id, bearer).await?;
    let known = Known {
        user: Some(&issued.user),
        app_credential: None,
    };
    let body = render(state, &issued.claims, false, known).await?;
    issued_response(&issued.token, body)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WebSsoQuery {
    /// The trusted dashboard URL the token is posted to.
    pub origin: Option<String>,
}

/// Begins a browser login through a provider: redirects to its
/// authorization endpoint (code flow with PKCE). `origin` must be a trusted
/// dashboard (missing: 400, untrusted: 401).
#[utoipa::path(get, path = "/v3/auth/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/websso",
    tag = "federation",
    params(("idp_id" = String, Path, description = "The provider"),
           ("protocol_id" = String, Path, description = "The protocol, e.g. openid"),
           WebSsoQuery),
    responses((status = 302, description = "To the provider's login"),
              (status = 400, description = "No origin"),
              (status = 401, description = "Untrusted origin"),
              (status = 404, description = "No such provider or protocol")))]
pub async fn websso(
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((idp_id, protocol_id)): Path<(String, String)>,
    Query(q): Query<WebSsoQuery>,
) -> Result<Response, Error> {
    let base = state.ctx.base_url(&headers);
    let begun = websso::begin(&state, &idp_id, &protocol_id, q.origin.as_deref(), &base).await?;
    let max_age = state.ctx.config().auth.sso_login_timeout_secs;
    let cookie = format!(
        "{SSO_COOKIE}={}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        begun.state,
        websso::CALLBACK_PATH,
        if base.starts_with("https://") {
            "; Secure"
        } else {
            ""
        },
    );
    let mut resp = StatusCode::FOUND.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(&begun.redirect).map_err(Error::internal)?,
    );
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(Error::internal)?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CallbackQuery {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
}

/// Where the provider returns the browser: redeems the code and answers
/// a page that posts the unscoped token (form field `token`) to the
/// dashboard that began the login, as Keystone's WebSSO does.
#[utoipa::path(get, path = "/v3/auth/OS-VIRGA/websso/callback", tag = "federation",
    params(CallbackQuery),
    responses((status = 200, description = "A page posting the token to the dashboard",
               content_type = "text/html"),
              (status = 401, description = "Unknown, reused or foreign state; refused code")))]
pub async fn websso_callback(
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, Error> {
    let cb = websso::Callback {
        state: q.state.ok_or_else(unauthorized)?,
        code: q.code,
        error: q.error,
        browser_state: cookie(&headers, SSO_COOKIE),
    };
    let done = websso::finish(&state, cb).await?;
    let mut resp = page::post_token(&done.origin, &done.issued.token).into_response();
    let clear = format!("{SSO_COOKIE}=; Path={}; Max-Age=0", websso::CALLBACK_PATH);
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&clear).map_err(Error::internal)?,
    );
    Ok(resp)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
