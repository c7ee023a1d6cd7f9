//! Placement microversions: the `OpenStack-API-Version: placement X.Y`
//! request header picks the behaviour (absent: the minimum; `latest`: the
//! maximum), every response names the version it was served at, and a
//! version outside the range is 406, a malformed one 400. From 1.15 a
//! successful GET carries `Last-Modified` and `Cache-Control: no-cache`.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use virga_common::Error;

use crate::app::versions::{MAX, MIN};

/// The version a request is served at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Microversion {
    pub major: u32,
    pub minor: u32,
}

impl Microversion {
    pub const fn new(major: u32, minor: u32) -> Self {
        Microversion { major, minor }
    }

    /// Whether the request asked for 1.`minor` or later.
    pub fn at_least(self, minor: u32) -> bool {
        self >= Microversion::new(1, minor)
    }

    /// 404 (what Placement answers) unless the version is 1.`minor` or later.
    pub fn require(self, minor: u32) -> Result<(), Error> {
        if self.at_least(minor) {
            Ok(())
        } else {
            Err(Error::NotFound {
                kind: "resource",
                id: format!("(needs microversion 1.{minor})"),
            })
        }
    }
}

impl std::fmt::Display for Microversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The placement version a header value asks for, if any.
pub fn parse(header: Option<&str>) -> Result<Microversion, Error> {
    let Some(raw) = header else { return Ok(MIN) };
    let asked = raw.split(',').map(str::trim).find_map(|part| {
        let (service, version) = part.split_once(char::is_whitespace)?;
        service
            .eq_ignore_ascii_case("placement")
            .then(|| version.trim())
    });
    let Some(v) = asked else { return Ok(MIN) };
    if v.eq_ignore_ascii_case("latest") {
        return Ok(MAX);
    }
    let bad = || Error::BadRequest(format!("invalid version string: {v}"));
    let (a, b) = v.split_once('.').ok_or_else(bad)?;
    let num = |s: &str| {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
            .ok_or_else(bad)
    };
    let v = Microversion::new(num(a)?, num(b)?);
    if v < MIN || v > MAX {
        return Err(Error::NotAcceptable(format!(
            "Unacceptable version header: {v}. The range is {MIN} to {MAX}."
        )));
    }
    Ok(v)
}

/// Serves each request at its negotiated version and says which.
pub async fn negotiate(mut req: Request, next: Next) -> Response {
    let header = req
        .headers()
        .get("openstack-api-version")
        .and_then(|h| h.to_str().ok());
    let v = match parse(header) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let is_get = req.method() == axum::http::Method::GET;
    req.extensions_mut().insert(v);
    let mut resp = next.run(req).await;
    // 1.15: successful reads say when they were true and that caches must
    // revalidate (Placement gives the time of the answer for lists).
    if v.at_least(15) && is_get && resp.status().is_success() {
        let h = resp.headers_mut();
        h.insert("cache-control", HeaderValue::from_static("no-cache"));
        if !h.contains_key("last-modified") {
            let now = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT");
            if let Ok(t) = HeaderValue::from_str(&now.to_string()) {
                h.insert("last-modified", t);
            }
        }
    }
    if let Ok(h) = HeaderValue::from_str(&format!("placement {v}")) {
        resp.headers_mut().insert("openstack-api-version", h);
    }
    resp.headers_mut()
        .insert("vary", HeaderValue::from_static("openstack-api-version"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse(None).unwrap(), MIN);
        assert_eq!(parse(Some("placement latest")).unwrap(), MAX);
        assert_eq!(
            parse(Some("compute 2.1, placement 1.1")).unwrap(),
            Microversion::new(1, 1)
        );
        assert_eq!(
            parse(Some("compute 2.90")).unwrap(),
            MIN,
            "another service's version"
        );
        assert_eq!(
            parse(Some("placement 1.99")).unwrap_err().status().as_u16(),
            406
        );
        assert_eq!(
            parse(Some("placement 2.0")).unwrap_err().status().as_u16(),
            406
        );
        for bad in [
            "placement 1",
            "placement 1.x",
            "placement .1",
            "placement 1.1.1",
        ] {
            assert_eq!(
                parse(Some(bad)).unwrap_err().status().as_u16(),
                400,
                "{bad}"
            );
        }
    }
}
