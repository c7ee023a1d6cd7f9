//! The identity API versions this service offers, as Keystone describes them.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::links::{Link, MediaType};

/// One API version (Keystone's version object).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    pub id: String,
    pub status: String,
    pub updated: String,
    pub links: Vec<Link>,
    #[serde(rename = "media-types")]
    pub media_types: Vec<MediaType>,
}

/// Keystone v3.14 (Ussuri onwards) is the API level the identity issue targets.
pub fn v3(base_url: &str) -> Version {
    Version {
        id: "v3.14".into(),
        status: "stable".into(),
        updated: "2020-04-07T00:00:00Z".into(),
        links: vec![Link::self_link(format!("{base_url}/v3/"))],
        media_types: vec![MediaType::json(
            "application/vnd.openstack.identity-v3+json",
        )],
    }
}
