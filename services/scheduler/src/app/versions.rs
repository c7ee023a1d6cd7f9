//! The placement API version range this service offers, as Placement
//! describes it.
//!
//! 1.0 resource providers, inventories, allocations and usages; 1.1
//! aggregates; 1.2 custom resource classes; 1.3 `member_of`; 1.4 the
//! `resources` filter; 1.5 deleting all inventories; 1.6 traits; 1.7 PUT
//! of a resource class; 1.8 project and user on allocations; 1.9 usages
//! by project; 1.10 allocation candidates; 1.11 the allocations link;
//! 1.12 the dict allocation body; 1.13 `POST /allocations`; 1.14 nested
//! providers and `in_tree`; 1.15 `Last-Modified`; 1.16 `limit`; 1.17
//! `required` on candidates; 1.18 `required` on providers; 1.19
//! aggregates with generation; 1.20 create returns the provider; 1.21
//! `member_of` on candidates; 1.22 forbidden traits; 1.23 error codes;
//! 1.24 repeated `member_of`; 1.25 granular groups; 1.26 reserved may
//! equal total; 1.27 summaries list every class; 1.28 consumer
//! generations; 1.29 nested candidates; 1.30 the reshaper; 1.31 `in_tree`
//! on candidates; 1.32 forbidden aggregates; 1.33 string group suffixes;
//! 1.34 candidates' `mappings`; 1.35 `root_required`; 1.36 `same_subtree`
//! and resourceless groups; 1.37 re-parenting and un-parenting; 1.38
//! consumer types; 1.39 `required=in:A,B`. That is Placement's latest;
//! the maximum rises only when every feature up to it is here.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::links::Link;

use crate::http::microversion::Microversion;

pub const MIN: Microversion = Microversion::new(1, 0);
pub const MAX: Microversion = Microversion::new(1, 39);

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
