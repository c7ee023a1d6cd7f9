//! The placement API version range this service offers, as Placement
//! describes it. Microversion 1.0 until the scheduler issue implements more.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::links::Link;

pub const MIN_MICROVERSION: &str = "1.0";
pub const MAX_MICROVERSION: &str = "1.0";

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
        id: format!("v{MIN_MICROVERSION}"),
        min_version: MIN_MICROVERSION.into(),
        max_version: MAX_MICROVERSION.into(),
        status: "CURRENT".into(),
        // Placement deliberately gives an empty, relative self link.
        links: vec![Link::self_link("")],
    }
}
