//! Browser single sign-on: the authorization-code flow with PKCE between
//! the identity provider and a trusted dashboard (the console). Begun by
//! the dashboard sending the browser to us with its `origin`; finished at
//! our callback, which posts an unscoped token back to that origin.

use chrono::Utc;
use virga_common::Error;

use super::login::{self, oidc_error};
use crate::app::IdentityState;
use crate::app::auth::{Issued, unauthorized};
use crate::db::federation::sso_login;

/// Where the provider sends the browser back, below the identity URL.
pub const CALLBACK_PATH: &str = "/v3/auth/OS-VIRGA/websso/callback";

/// A login begun: the provider URL to send the browser to and the state
/// to bind to the browser (a cookie).
pub struct Begun {
    pub redirect: String,
    pub state: String,
}

/// A login finished: the token and where to post it.
pub struct Finished {
    pub issued: Issued,
    pub origin: String,
}

/// Keystone's origin check: present (400), and exactly a trusted
/// dashboard (401), so a token is never handed to a site an attacker chose.
pub fn check_origin(state: &IdentityState, origin: Option<&str>) -> Result<String, Error> {
    let origin = origin
        .filter(|o| !o.is_empty())
        .ok_or_else(|| Error::BadRequest("Request must have an origin query parameter".into()))?;
    let trusted = &state.ctx.config().auth.trusted_dashboards;
    if !trusted.iter().any(|t| t == origin) {
        return Err(Error::Unauthorized(format!(
            "{origin} is not a trusted dashboard host"
        )));
    }
    Ok(origin.to_owned())
}

pub async fn begin(
    state: &IdentityState,
    idp_id: &str,
    protocol_id: &str,
    origin: Option<&str>,
    base_url: &str,
) -> Result<Begun, Error> {
    let origin = check_origin(state, origin)?;
    let entry = login::entry(state, idp_id, protocol_id).await?;
    let redirect_uri = format!("{base_url}{CALLBACK_PATH}");
    let auth = state
        .oidc
        .authorize(&entry.oidc, &redirect_uri)
        .await
        .map_err(oidc_error)?;
    let timeout = state.ctx.config().auth.sso_login_timeout_secs as i64;
    let row = sso_login::Model {
        state: auth.state.clone(),
        idp_id: idp_id.to_owned(),
        protocol_id: protocol_id.to_owned(),
        nonce: auth.nonce,
        pkce_verifier: auth.pkce_verifier,
        origin,
        redirect_uri,
        expires_at: Utc::now() + chrono::TimeDelta::seconds(timeout),
    };
    sso_login::create(state.ctx.db(), row).await?;
    Ok(Begun {
        redirect: auth.url,
        state: auth.state,
    })
}

/// What the provider sent the browser back with.
pub struct Callback {
    pub state: String,
    pub code: Option<String>,
    pub error: Option<String>,
    /// The state this browser was given when it began (its cookie).
    pub browser_state: Option<String>,
}

/// Finishes a login: the state must be one we issued to this very browser,
/// unused and unexpired; the code is redeemed with its PKCE verifier and
/// the id_token's nonce checked. Any failure is the uniform 401.
pub async fn finish(state: &IdentityState, cb: Callback) -> Result<Finished, Error> {
    let refused = |why: &str| {
        tracing::info!(reason = why, "browser login refused");
        unauthorized()
    };
    // Binding the state to the browser defeats login CSRF: a victim cannot
    // be made to finish a login an attacker began.
    let same_browser = cb
        .browser_state
        .as_deref()
        .is_some_and(|b| virga_auth::constant_time_eq(b.as_bytes(), cb.state.as_bytes()));
    if !same_browser {
        return Err(refused("state does not belong to this browser"));
    }
    let row = sso_login::take(state.ctx.db(), &cb.state)
        .await?
        .ok_or_else(|| refused("unknown, used or expired state"))?;
    if let Some(e) = cb.error {
        return Err(refused(&format!("the provider answered {e}")));
    }
    let code = cb.code.ok_or_else(|| refused("no code"))?;
    let entry = login::entry(state, &row.idp_id, &row.protocol_id).await?;
    let claims = state
        .oidc
        .redeem(
            &entry.oidc,
            &row.redirect_uri,
            &code,
            &row.pkce_verifier,
            &row.nonce,
        )
        .await
        .map_err(oidc_error)?;
    let issued = login::login(state, &entry, claims).await?;
    Ok(Finished {
        issued,
        origin: row.origin,
    })
}
