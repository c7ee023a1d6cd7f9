//! The request id that follows one API request through logs, bus messages and
//! responses (`X-Openstack-Request-Id: req-<uuid>`).

/// The response (and trusted inbound) header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-openstack-request-id";

/// A request id of the form `req-<uuid>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct RequestId(String);

impl RequestId {
    pub fn new() -> Self {
        RequestId(format!("req-{}", uuid::Uuid::new_v4()))
    }

    /// Accepts an inbound id only in the exact `req-<uuid>` form, so a client
    /// cannot inject arbitrary text into logs; anything else gets a fresh id.
    pub fn from_inbound(value: Option<&str>) -> Self {
        match value {
            Some(v)
                if v.len() == 40
                    && v.starts_with("req-")
                    && uuid::Uuid::parse_str(&v[4..]).is_ok() =>
            {
                RequestId(v.to_ascii_lowercase())
            }
            _ => RequestId::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_ids_are_kept_only_when_well_formed() {
        let good = RequestId::new();
        assert_eq!(RequestId::from_inbound(Some(good.as_str())), good);
        for bad in [
            "req-x",
            "hello\nworld",
            "",
            "req-00000000-0000-0000-0000-00000000000g",
        ] {
            let got = RequestId::from_inbound(Some(bad));
            assert_ne!(got.as_str(), bad);
            assert!(got.as_str().starts_with("req-"));
        }
    }
}
