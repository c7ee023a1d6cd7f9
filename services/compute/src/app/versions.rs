//! The compute API versions this service offers, as Nova describes them.
//!
//! Only v2.1 is offered, with the microversions up to [`MAX_MICROVERSION`];
//! the legacy v2.0 API is not offered.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::links::{Link, MediaType};

/// The highest compute microversion this service implements.
pub const MAX_MICROVERSION: &str = "2.25";
/// The lowest compute microversion this service implements.
pub const MIN_MICROVERSION: &str = "2.1";

/// The version a request is served at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Microversion {
    pub major: u32,
    pub minor: u32,
}

impl std::fmt::Display for Microversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Microversion {
    /// At `2.minor` or later: whether a change of that version applies.
    pub fn at_least(self, minor: u32) -> bool {
        self >= Microversion { major: 2, minor }
    }
}

/// Nova's answer to a resource or action of a later microversion than
/// the one asked for: a plain 404.
pub fn not_in_version() -> virga_common::Error {
    virga_common::Error::Missing {
        kind: "Resource",
        message: "The resource could not be found.".into(),
    }
}

/// One API version (Nova's version object).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    pub id: String,
    pub status: String,
    /// The highest microversion.
    pub version: String,
    pub min_version: String,
    pub updated: String,
    pub links: Vec<Link>,
    /// Present on the single-version document only.
    #[serde(rename = "media-types", skip_serializing_if = "Option::is_none")]
    pub media_types: Option<Vec<MediaType>>,
}

pub fn v21(base_url: &str, detailed: bool) -> Version {
    let mut links = vec![Link::self_link(format!("{base_url}/v2.1/"))];
    let mut media_types = None;
    if detailed {
        links.push(Link {
            rel: "describedby".into(),
            href: "http://docs.openstack.org/".into(),
            media_type: Some("text/html".into()),
        });
        media_types = Some(vec![MediaType::json(
            "application/vnd.openstack.compute+json;version=2.1",
        )]);
    }
    Version {
        id: "v2.1".into(),
        status: "CURRENT".into(),
        version: MAX_MICROVERSION.into(),
        min_version: MIN_MICROVERSION.into(),
        updated: "2013-07-23T11:33:21Z".into(),
        links,
        media_types,
    }
}
