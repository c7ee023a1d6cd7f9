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

/// The minor versions whose features this service has: up to 2.10 (2.6
/// interoperable import, 2.7 hidden images, 2.8 and 2.9 multiple stores
/// and copy-image, 2.10 deleting an image from one store).
const MINORS: u32 = 10;

pub fn all(base_url: &str) -> Vec<Version> {
    (0..=MINORS)
        .rev()
        .map(|minor| Version {
            id: format!("v2.{minor}"),
            status: if minor == MINORS {
                "CURRENT"
            } else {
                "SUPPORTED"
            }
            .into(),
            links: vec![Link::self_link(format!("{base_url}/v2/"))],
        })
        .collect()
}
