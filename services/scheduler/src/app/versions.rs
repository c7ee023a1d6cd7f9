//! The placement API version range this service offers, as Placement
//! describes it.
//!
//! 1.0 resource providers and inventories, 1.1 aggregates, 1.2 custom
//! resource classes, 1.3 `member_of`. The maximum rises only when every
//! feature up to it is here: 1.4 filters providers by free capacity, which
//! needs allocations.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::links::Link;

use crate::http::microversion::Microversion;

pub const MIN: Microversion = Microversion::new(1, 0);
pub const MAX: Microversion = Microversion::new(1, 3);

/// One API version (Placement's version object).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    pub id: String,
    pub min_version: String,
    pub max_version: String,
    pub status: String,
    pub links: Vec<Link>,
}

pub fn v1() -> Version {
    Version {
        id: "v1.0".into(),
        min_version: MIN.to_string(),
        max_version: MAX.to_string(),
        status: "CURRENT".into(),
        // Placement deliberately gives an empty, relative self link.
        links: vec![Link::self_link("")],
    }
}
