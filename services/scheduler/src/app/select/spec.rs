//! What `select` is asked for, and what it knows of each candidate node.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::db::{node, site};

/// Affinity: all members on one node; anti-affinity: no two on one node
/// (filters). The soft ones prefer so, as far as they can (weighers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupPolicy {
    Affinity,
    AntiAffinity,
    SoftAffinity,
    SoftAntiAffinity,
}

impl GroupPolicy {
    pub const ALL: [&'static str; 4] = [
        "affinity",
        "anti-affinity",
        "soft-affinity",
        "soft-anti-affinity",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupPolicy::Affinity => "affinity",
            GroupPolicy::AntiAffinity => "anti-affinity",
            GroupPolicy::SoftAffinity => "soft-affinity",
            GroupPolicy::SoftAntiAffinity => "soft-anti-affinity",
        }
    }

    pub fn parse(s: &str) -> Option<GroupPolicy> {
        Some(match s {
            "affinity" => GroupPolicy::Affinity,
            "anti-affinity" => GroupPolicy::AntiAffinity,
            "soft-affinity" => GroupPolicy::SoftAffinity,
            "soft-anti-affinity" => GroupPolicy::SoftAntiAffinity,
            _ => return None,
        })
    }

    /// Weighed, not filtered.
    pub fn is_soft(self) -> bool {
        matches!(
            self,
            GroupPolicy::SoftAffinity | GroupPolicy::SoftAntiAffinity
        )
    }
}

/// Where the service's users are, and how far (in round-trip time) a
/// node may be from them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub latitude: f64,
    pub longitude: f64,
    pub max_latency_ms: Option<f64>,
}

/// One device the instance needs, from one device of the node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceSpec {
    pub resources: BTreeMap<String, i64>,
    pub required: BTreeSet<String>,
}

/// A request spec (Nova's `RequestSpec`, edge-shaped).
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// One consumer per instance to place.
    pub consumers: Vec<String>,
    pub project_id: String,
    pub user_id: String,
    /// What the node itself provides (VCPU, MEMORY_MB, DISK_GB, ...).
    pub resources: BTreeMap<String, i64>,
    pub required: BTreeSet<String>,
    pub forbidden: BTreeSet<String>,
    pub devices: Vec<DeviceSpec>,
    pub image_id: Option<String>,
    /// A container image's layer digests, for layer locality.
    pub layers: Vec<String>,
    /// Any of these sites, regions, site kinds, node kinds (empty: any).
    pub sites: Vec<String>,
    pub regions: Vec<String>,
    pub site_kinds: Vec<String>,
    pub node_kinds: Vec<String>,
    /// Only these nodes (empty: any), never those (node uuids).
    pub nodes: Vec<String>,
    pub ignore_nodes: Vec<String>,
    pub group: Option<(String, GroupPolicy)>,
    pub near: Option<Near>,
    /// Placement 1.38's type for the consumers (`INSTANCE`).
    pub consumer_type: String,
    /// Claimed already confirmed: they never expire (a caller that
    /// records its progress durably and releases on recovery needs no
    /// separate `confirm`).
    pub confirmed: bool,
}

/// A candidate: a node that can take the request, with the devices it
/// would use and the facts the filters and weighers need (shared with
/// the host cache, not copied).
#[derive(Debug, Clone)]
pub struct Host {
    pub node: Arc<node::Model>,
    pub site: Arc<site::Model>,
    /// Image ids and layer digests the node's cache holds (only when the
    /// spec names an image, or layers: sharing them costs every host).
    pub images: Option<Arc<BTreeSet<String>>>,
    pub layers: Option<Arc<BTreeSet<String>>>,
    /// The device provider chosen for each of the spec's devices.
    pub devices: Vec<String>,
    /// The node's own free share after this placement, 0..1 (VCPU and
    /// MEMORY_MB averaged where present).
    pub free_share: f64,
    /// Some node of the same site holds the image.
    pub site_has_image: bool,
}

/// What the filters need beyond the spec and the host.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub now: chrono::DateTime<chrono::Utc>,
    pub stale_secs: u64,
    /// Nodes the request's group already uses, with how many of its
    /// members each has (earlier members and this request's own picks so
    /// far).
    pub group_nodes: BTreeMap<String, usize>,
}
