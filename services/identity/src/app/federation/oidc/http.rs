//! The HTTP client under openidconnect: reqwest (our version, rustls),
//! no redirects followed (a provider redirecting us elsewhere is refused,
//! not obeyed), a timeout, and a cap on what a response may weigh.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use super::OidcError;

const TIMEOUT: Duration = Duration::from_secs(10);
/// Discovery documents, key sets and userinfo are small; more is refused.
const MAX_BODY: usize = 1 << 20;

#[derive(Clone)]
pub(super) struct OidcHttp(reqwest::Client);

impl OidcHttp {
    pub(super) fn new() -> Result<Self, reqwest::Error> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .build()
            .map(OidcHttp)
    }

    /// GETs userinfo with the access token; the provider refusing it is
    /// the caller's fault, anything else the provider's.
    pub(super) async fn userinfo(
        &self,
        url: &str,
        access_token: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let unavailable = |e: Box<dyn std::error::Error + Send + Sync>| OidcError::Unavailable {
            issuer: url.to_owned(),
            source: e,
        };
        let resp = self
            .0
            .get(url)
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unavailable(Box::new(e)))?;
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(OidcError::Refused(format!("userinfo answered {status}")));
        }
        if !status.is_success() {
            return Err(unavailable(format!("userinfo answered {status}").into()));
        }
        let body = limited(resp).await.map_err(|e| unavailable(Box::new(e)))?;
        serde_json::from_slice(&body)
            .map_err(|e| OidcError::Refused(format!("userinfo is not a JSON object: {e}")))
    }
}

async fn limited(mut resp: reqwest::Response) -> Result<Vec<u8>, std::io::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(std::io::Error::other)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(std::io::Error::other("response larger than 1 MiB"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl<'c> AsyncHttpClient<'c> for OidcHttp {
    type Error = HttpClientError<reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let resp = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(Box::new)?;
            let mut builder = openidconnect::http::Response::builder().status(resp.status());
            for (name, value) in resp.headers() {
                builder = builder.header(name, value);
            }
            let body = limited(resp)
                .await
                .map_err(|e| HttpClientError::Other(e.to_string()))?;
            builder.body(body).map_err(HttpClientError::Http)
        })
    }
}
