//! Owns the relying party's side of the authorization-code flow: PKCE,
//! the authorization request's parameters, and redeeming the code at the
//! token endpoint.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, Url};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{HTTP_TIMEOUT, OidcClient, OidcError, SCOPES, http};

/// A PKCE pair (RFC 7636, S256).
#[derive(Clone, Debug)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        // 64 characters from the unreserved set, as RFC 7636 asks.
        let verifier = format!("{}{}", random(), random());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Pkce {
        Pkce::new()
    }
}

/// One authorization request's parameters, kept for the code exchange.
#[derive(Clone, Debug)]
pub struct AuthRequest {
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub pkce: Pkce,
}

impl AuthRequest {
    /// `SCOPES` to the client's first redirect URI, with a fresh state,
    /// nonce and PKCE pair.
    pub fn new(client: &OidcClient) -> AuthRequest {
        AuthRequest {
            redirect_uri: client.redirect_uris.first().cloned().unwrap_or_default(),
            scope: SCOPES.to_owned(),
            state: random(),
            nonce: random(),
            pkce: Pkce::new(),
        }
    }

    pub(super) fn url(&self, issuer: &str, client_id: &str) -> String {
        let params = [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", &self.redirect_uri),
            ("scope", &self.scope),
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.pkce.challenge),
            ("code_challenge_method", "S256"),
        ];
        Url::parse_with_params(&format!("{issuer}/auth"), params)
            .expect("the issuer is a valid URL")
            .into()
    }
}

/// The token endpoint's answer.
#[derive(Clone, Debug, Deserialize)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
    pub token_type: String,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub(super) async fn exchange(
    issuer: &str,
    client: &OidcClient,
    request: &AuthRequest,
    code: &str,
) -> Result<Tokens, OidcError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", request.redirect_uri.as_str()),
        ("code_verifier", request.pkce.verifier.as_str()),
    ];
    let http_client = Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(http("build the token client"))?;
    let mut post = http_client.post(format!("{issuer}/token"));
    let secret = client.client_secret.as_deref().unwrap_or_default();
    match client.token_endpoint_auth_method.as_str() {
        // RFC 6749 2.3.1: form-encoded before Basic, which the provider undoes.
        "client_secret_basic" => {
            post = post.basic_auth(form_encode(&client.client_id), Some(form_encode(secret)));
        }
        "client_secret_post" => {
            form.extend([("client_id", &*client.client_id), ("client_secret", secret)])
        }
        _ => form.push(("client_id", &client.client_id)),
    }
    let response = post
        .form(&form)
        .send()
        .await
        .map_err(http("token request"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(http("read the token response"))?;
    if !status.is_success() {
        return Err(OidcError::Flow(format!("token endpoint: {status}: {body}")));
    }
    serde_json::from_str(&body).map_err(|e| OidcError::Flow(format!("token response {body}: {e}")))
}

fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
