//! OpenStack-style pagination: `limit` caps a page, `marker` is the id of the
//! last item of the previous page, and a `next` link is offered while more may
//! follow. Services read [`PageQuery`], ask their store for `limit + 1` rows
//! after the marker, and build the link with [`Page::from_rows`].

use serde::Deserialize;

use crate::error::Error;

/// The `limit` and `marker` query parameters as clients send them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The most items to return; the service caps it at its maximum page size.
    pub limit: Option<String>,
    /// The id of the last item of the previous page.
    pub marker: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub marker: Option<String>,
}

impl PageQuery {
    /// Validates `limit` (a non-negative integer; above `max` it is capped,
    /// as Nova does) and passes the marker on; the store reports an unknown marker.
    pub fn validate(&self, max: u64) -> Result<PageRequest, Error> {
        let limit = match &self.limit {
            None => max,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if n >= 0 => (n as u64).min(max),
                _ => {
                    return Err(Error::BadRequest(format!(
                        "Invalid input for field/attribute limit. Value: {raw}. limit must be a non-negative integer"
                    )));
                }
            },
        };
        let marker = match &self.marker {
            Some(m) if m.is_empty() => {
                return Err(Error::BadRequest("marker must not be empty".into()));
            }
            other => other.clone(),
        };
        Ok(PageRequest { limit, marker })
    }
}

/// One page of results and, if more may follow, the marker for the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_marker: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched after the marker: the
    /// extra row only proves that another page exists and is dropped.
    pub fn from_rows(mut rows: Vec<T>, req: &PageRequest, id: impl Fn(&T) -> String) -> Self {
        let more = rows.len() as u64 > req.limit;
        rows.truncate(req.limit as usize);
        let next_marker = if more { rows.last().map(id) } else { None };
        Page {
            items: rows,
            next_marker,
        }
    }

    /// The `next` href: `base` with the caller's other query parameters kept
    /// and `marker` / `limit` replaced.
    pub fn next_href(
        &self,
        base: &str,
        other_params: &[(String, String)],
        req: &PageRequest,
    ) -> Option<String> {
        let marker = self.next_marker.as_ref()?;
        let mut params: Vec<(String, String)> = other_params
            .iter()
            .filter(|(k, _)| k != "marker" && k != "limit")
            .cloned()
            .collect();
        params.push(("limit".into(), req.limit.to_string()));
        params.push(("marker".into(), marker.clone()));
        Some(format!("{base}?{}", query_string(&params)))
    }
}

/// `k=v&k2=v2`, each part percent-encoded (RFC 3986 unreserved kept).
pub fn query_string(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(limit: Option<&str>, marker: Option<&str>) -> PageQuery {
        PageQuery {
            limit: limit.map(Into::into),
            marker: marker.map(Into::into),
        }
    }

    #[test]
    fn limit_is_validated_and_capped() {
        assert_eq!(q(None, None).validate(1000).unwrap().limit, 1000);
        assert_eq!(q(Some("5"), None).validate(1000).unwrap().limit, 5);
        assert_eq!(q(Some("5000"), None).validate(1000).unwrap().limit, 1000);
        assert_eq!(q(Some("0"), None).validate(1000).unwrap().limit, 0);
        for bad in ["-1", "abc", "1.5", ""] {
            let err = q(Some(bad), None).validate(1000).unwrap_err();
            assert!(matches!(err, Error::BadRequest(_)), "{bad}");
        }
        assert!(q(None, Some("")).validate(10).is_err());
    }

    #[test]
    fn extra_row_means_next_page() {
        let req = q(Some("2"), None).validate(100).unwrap();
        let page = Page::from_rows(vec!["a", "b", "c"], &req, |s| s.to_string());
        assert_eq!(page.items, vec!["a", "b"]);
        assert_eq!(page.next_marker.as_deref(), Some("b"));
        let href = page
            .next_href(
                "http://h/v2.1/servers",
                &[("name".into(), "a b".into()), ("marker".into(), "x".into())],
                &req,
            )
            .unwrap();
        assert_eq!(href, "http://h/v2.1/servers?name=a%20b&limit=2&marker=b");

        let last = Page::from_rows(vec!["c"], &req, |s| s.to_string());
        assert_eq!(last.next_marker, None);
        assert_eq!(last.next_href("http://h", &[], &req), None);
    }
}
