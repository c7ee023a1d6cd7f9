//! The placement API version range this service offers, as Placement
//! describes it.
//!
//! 1.0 resource providers, inventories, allocations and usages, 1.1
//! aggregates, 1.2 custom resource classes, 1.3 `member_of`, 1.4 the
//! `resources` filter, 1.5 deleting all inventories. The maximum rises only
//! when every feature up to it is here: 1.6 is traits.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::links::Link;

use crate::http::microversion::Microversion;

pub const MIN: Microversion = Microversion::new(1, 0);
pub const MAX: Microversion = Microversion::new(1, 5);

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
