//! Compute microversions, as Nova negotiates them: the version comes from
//! `OpenStack-API-Version: compute X.Y`, else the legacy
//! `X-OpenStack-Nova-API-Version: X.Y` (absent: the minimum; `latest`:
//! the maximum); every versioned response names the version it was
//! served at; a version outside the range is 406, a malformed one 400.

use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use virga_common::Error;

pub use crate::app::versions::Microversion;
use crate::app::versions::{MAX_MICROVERSION, MIN_MICROVERSION};

/// The version [`negotiate`] settled on, for a handler whose answer
/// depends on it.
impl<S: Send + Sync> FromRequestParts<S> for Microversion {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Microversion>()
            .copied()
            .unwrap_or_else(min))
    }
}

fn constant(s: &str) -> Microversion {
    let (a, b) = s.split_once('.').expect("a microversion constant");
    Microversion {
        major: a.parse().expect("a number"),
        minor: b.parse().expect("a number"),
    }
}

pub fn min() -> Microversion {
    constant(MIN_MICROVERSION)
}

pub fn max() -> Microversion {
    constant(MAX_MICROVERSION)
}

/// The compute version the request's headers ask for.
pub fn parse(standard: Option<&str>, legacy: Option<&str>) -> Result<Microversion, Error> {
    let asked = standard
        .and_then(|raw| {
            raw.split(',').map(str::trim).find_map(|part| {
                let (service, version) = part.split_once(char::is_whitespace)?;
                service
                    .eq_ignore_ascii_case("compute")
                    .then(|| version.trim())
            })
        })
        .or(legacy.map(str::trim));
    let Some(v) = asked else { return Ok(min()) };
    if v.eq_ignore_ascii_case("latest") {
        return Ok(max());
    }
    let bad = || {
        Error::BadRequest(format!(
            "API Version String {v} is of invalid format. Must be of format MajorNum.MinorNum."
        ))
    };
    let (a, b) = v.split_once('.').ok_or_else(bad)?;
    let num = |s: &str| {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
            .ok_or_else(bad)
    };
    let v = Microversion {
        major: num(a)?,
        minor: num(b)?,
    };
    if v < min() || v > max() {
        return Err(Error::NotAcceptable(format!(
            "Version {v} is not supported by the API. Minimum is {} and maximum is {}.",
            min(),
            max()
        )));
    }
    Ok(v)
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|h| h.to_str().ok())
}

/// Serves each request at its negotiated version and says which (errors
/// too, as Nova does).
pub async fn negotiate(mut req: Request, next: Next) -> Response {
    let asked = parse(
        header(&req, "openstack-api-version"),
        header(&req, "x-openstack-nova-api-version"),
    );
    let (mut resp, v) = match asked {
        Ok(v) => {
            req.extensions_mut().insert(v);
            (next.run(req).await, v)
        }
        Err(e) => (e.into_response(), min()),
    };
    let h = resp.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("compute {v}")) {
        h.insert("openstack-api-version", value);
    }
    if let Ok(value) = HeaderValue::from_str(&v.to_string()) {
        h.insert("x-openstack-nova-api-version", value);
    }
    h.insert(
        "vary",
        HeaderValue::from_static("OpenStack-API-Version, X-OpenStack-Nova-API-Version"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_negotiated_as_nova_does() {
        assert_eq!(parse(None, None).unwrap(), min());
        assert_eq!(parse(Some("compute latest"), None).unwrap(), max());
        assert_eq!(parse(None, Some("latest")).unwrap(), max());
        assert_eq!(
            parse(Some("placement 1.30, compute 2.1"), None).unwrap(),
            min()
        );
        assert_eq!(
            parse(Some("placement 1.30"), None).unwrap(),
            min(),
            "another service's version"
        );
        let e = parse(Some("compute 2.999"), None).unwrap_err();
        assert_eq!(e.status().as_u16(), 406);
        assert_eq!(
            e.to_string(),
            format!(
                "Version 2.999 is not supported by the API. Minimum is {} and maximum is {}.",
                min(),
                max()
            )
        );
        assert_eq!(
            parse(None, Some("3.0")).unwrap_err().status().as_u16(),
            406,
            "the legacy header counts when the standard one is absent"
        );
        assert_eq!(
            parse(Some("compute 2.1"), Some("3.0")).unwrap(),
            min(),
            "the standard header wins"
        );
        for bad in ["compute 2", "compute 2.x", "compute .1", "compute 2.1.1"] {
            let e = parse(Some(bad), None).unwrap_err();
            assert_eq!(e.status().as_u16(), 400, "{bad}");
            assert!(e.to_string().contains("is of invalid format"), "{e}");
        }
    }
}
