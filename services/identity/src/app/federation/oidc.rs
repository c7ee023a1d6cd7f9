//! Talking to OpenID Connect providers: discovery (cached, keys refreshed
//! when a token names one we do not have), verifying an id_token, reading
//! userinfo with an access token, and the authorization-code flow with
//! PKCE. Every answer is the provider's claims as raw JSON, for the
//! mapping rules to read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde_json::{Map, Value};

use crate::db::federation::identity_provider::OidcSettings;

mod http;

use http::OidcHttp;

/// Claims, as the provider sent them.
pub type Claims = Map<String, Value>;

/// How long discovery (and the keys in it) is trusted before it is read again.
const METADATA_TTL: Duration = Duration::from_secs(300);
/// Keys are re-read on an unknown signature at most this often, so a flood
/// of forged tokens cannot make us hammer the provider.
const MIN_REFRESH: Duration = Duration::from_secs(30);
/// Clock skew allowed on an id_token's expiry, as for Virga's own tokens.
const LEEWAY: chrono::TimeDelta = chrono::TimeDelta::seconds(virga_auth::LEEWAY_SECS as i64);

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered nonsense.
    #[error("identity provider {issuer} is unavailable")]
    Unavailable {
        issuer: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// What the caller presented is not a valid token of this provider.
    #[error("token refused: {0}")]
    Refused(String),
}

/// A browser login begun: where to send the browser and what the callback
/// needs to finish it.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

struct Discovered {
    metadata: CoreProviderMetadata,
    at: Instant,
}

pub struct OidcProviders {
    http: OidcHttp,
    cache: Mutex<HashMap<String, std::sync::Arc<Discovered>>>,
}

impl OidcProviders {
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(OidcProviders {
            http: OidcHttp::new()?,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The claims behind a bearer token a CLI presents: an id_token issued
    /// to our client (verified locally), or else an access token the
    /// provider's userinfo endpoint accepts.
    pub async fn bearer_claims(&self, o: &OidcSettings, token: &str) -> Result<Claims, OidcError> {
        if token.split('.').count() == 3 {
            match self.verify_id_token(o, token, None).await {
                Ok(claims) => return Ok(claims),
                // A JWT access token (Keycloak's, say) is no id_token for us:
                // the provider can still vouch for it through userinfo.
                Err(OidcError::Refused(why)) => {
                    tracing::debug!(%why, "bearer token is not our id_token; trying userinfo")
                }
                Err(e) => return Err(e),
            }
        }
        self.userinfo(o, token).await
    }

    /// Starts an authorization-code login with PKCE (S256), a nonce and a state.
    pub async fn authorize(
        &self,
        o: &OidcSettings,
        redirect_uri: &str,
    ) -> Result<Authorization, OidcError> {
        let client = self.client(o, Some(redirect_uri), false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in o.scopes.split_whitespace().filter(|s| *s != "openid") {
            req = req.add_scope(Scope::new(s.to_owned()));
        }
        let (url, state, nonce) = req.url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Finishes a browser login: redeems the code with the PKCE verifier
    /// and returns the id_token's claims, its nonce checked.
    pub async fn redeem(
        &self,
        o: &OidcSettings,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Claims, OidcError> {
        let client = self.client(o, Some(redirect_uri), false).await?;
        let unavailable = |e: Box<dyn std::error::Error + Send + Sync>| OidcError::Unavailable {
            issuer: o.issuer.clone(),
            source: e,
        };
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| unavailable(Box::new(e)))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            // The provider refusing the code is the caller's problem.
            .map_err(|e| OidcError::Refused(format!("code exchange: {e:?}")))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::Refused("no id_token in the token response".into()))?
            .to_string();
        self.verify_id_token(o, &id_token, Some(nonce)).await
    }

    /// Verifies an id_token (signature, issuer, audience = our client id,
    /// expiry, and the nonce when one is expected) and returns its claims.
    async fn verify_id_token(
        &self,
        o: &OidcSettings,
        raw: &str,
        nonce: Option<&str>,
    ) -> Result<Claims, OidcError> {
        let token: CoreIdToken = raw
            .parse()
            .map_err(|e| OidcError::Refused(format!("malformed id_token: {e}")))?;
        let mut refreshed = false;
        loop {
            let client = self.client(o, None, refreshed).await?;
            let verifier = client
                .id_token_verifier()
                .set_time_fn(|| chrono::Utc::now() - LEEWAY);
            let checked = match nonce {
                Some(n) => token
                    .claims(&verifier, &Nonce::new(n.to_owned()))
                    .map(|_| ()),
                None => token
                    .claims(&verifier, |_: Option<&Nonce>| Ok(()))
                    .map(|_| ()),
            };
            match checked {
                Ok(()) => return payload(raw),
                Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                    openidconnect::SignatureVerificationError::NoMatchingKey,
                )) if !refreshed && self.may_refresh(&o.issuer) => refreshed = true,
                Err(e) => return Err(OidcError::Refused(format!("id_token: {e:?}"))),
            }
        }
    }

    async fn userinfo(&self, o: &OidcSettings, access_token: &str) -> Result<Claims, OidcError> {
        let meta = self.metadata(&o.issuer, false).await?;
        let Some(endpoint) = meta.metadata.userinfo_endpoint() else {
            return Err(OidcError::Refused(
                "the provider has no userinfo endpoint: present an id_token".into(),
            ));
        };
        let claims = self
            .http
            .userinfo(endpoint.url().as_str(), access_token)
            .await?;
        match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => return Err(OidcError::Refused("userinfo without a subject".into())),
        }
        let mut claims = claims;
        // Userinfo need not say who issued it; the provider we asked did.
        claims
            .entry("iss")
            .or_insert_with(|| Value::String(o.issuer.clone()));
        Ok(claims)
    }

    async fn client(
        &self,
        o: &OidcSettings,
        redirect_uri: Option<&str>,
        refresh: bool,
    ) -> Result<Client, OidcError> {
        let meta = self.metadata(&o.issuer, refresh).await?;
        let mut client = CoreClient::from_provider_metadata(
            meta.metadata.clone(),
            ClientId::new(o.client_id.clone()),
            o.client_secret.clone().map(ClientSecret::new),
        );
        if let Some(uri) = redirect_uri {
            let uri = RedirectUrl::new(uri.to_owned()).map_err(|e| OidcError::Unavailable {
                issuer: o.issuer.clone(),
                source: Box::new(e),
            })?;
            client = client.set_redirect_uri(uri);
        }
        Ok(client)
    }

    fn may_refresh(&self, issuer: &str) -> bool {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(issuer)
            .is_none_or(|d| d.at.elapsed() >= MIN_REFRESH)
    }

    async fn metadata(
        &self,
        issuer: &str,
        refresh: bool,
    ) -> Result<std::sync::Arc<Discovered>, OidcError> {
        if !refresh {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(d) = cache.get(issuer).filter(|d| d.at.elapsed() < METADATA_TTL) {
                return Ok(d.clone());
            }
        }
        let unavailable =
            |source: Box<dyn std::error::Error + Send + Sync>| OidcError::Unavailable {
                issuer: issuer.to_owned(),
                source,
            };
        let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| unavailable(Box::new(e)))?;
        let metadata = CoreProviderMetadata::discover_async(url, &self.http)
            .await
            .map_err(|e| unavailable(Box::new(e)))?;
        let d = std::sync::Arc::new(Discovered {
            metadata,
            at: Instant::now(),
        });
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(issuer.to_owned(), d.clone());
        Ok(d)
    }
}

/// The claims of a JWT whose signature was verified already.
fn payload(raw: &str) -> Result<Claims, OidcError> {
    let part = raw
        .split('.')
        .nth(1)
        .ok_or_else(|| OidcError::Refused("malformed JWT".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| OidcError::Refused(format!("malformed JWT payload: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| OidcError::Refused(format!("JWT payload: {e}")))
}
