//! The image API versions this service offers, as Glance describes them.
//!
//! Glance numbers v2 minor versions by feature; v2.0 is the base image API,
//! and the image issue raises the current version as it adds imports, stores
//! and caching.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::links::Link;

/// One API version (Glance's version object: no dates, no media types).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    pub id: String,
    pub status: String,
    pub links: Vec<Link>,
}

pub fn all(base_url: &str) -> Vec<Version> {
    vec![Version {
        id: "v2.0".into(),
        status: "CURRENT".into(),
        links: vec![Link::self_link(format!("{base_url}/v2/"))],
    }]
}
