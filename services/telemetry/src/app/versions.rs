//! The telemetry API versions this service offers, in the shape Gnocchi
//! (OpenStack's metric service) uses.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::links::Link;

/// One API version (Gnocchi's version object; `updated` is a date).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    pub id: String,
    pub status: String,
    pub updated: String,
    pub links: Vec<Link>,
}

pub fn v1(base_url: &str) -> Version {
    Version {
        id: "v1.0".into(),
        status: "CURRENT".into(),
        updated: "2026-11-22".into(),
        links: vec![Link::self_link(format!("{base_url}/v1/"))],
    }
}

/// The links of `GET /v1`: itself, then each resource collection. Only the
/// self link until the telemetry issue adds metrics, alarms and events.
pub fn v1_links(base_url: &str) -> Vec<Link> {
    vec![Link::self_link(format!("{base_url}/v1"))]
}
