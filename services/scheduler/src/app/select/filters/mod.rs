//! Filters: each says whether a candidate node may take the request.
//! Capacity, traits (the node's arch among them) and accelerators are
//! already enforced by the set-based candidate query (`allocation_candidate`);
//! these are the checks that need Virga's site and node facts. Each is one
//! small file and unit-tested there.

mod affinity;
mod health;
mod latency;
mod node;
mod node_kind;
mod site;

use super::spec::{Context, Host, Spec};

/// One filter.
pub trait Filter: Send + Sync {
    /// Its name in "no valid node" reports.
    fn name(&self) -> &'static str;
    fn passes(&self, spec: &Spec, host: &Host, cx: &Context) -> bool;
}

/// Every filter, in the order they run (cheap and selective first).
pub fn all() -> Vec<Box<dyn Filter>> {
    vec![
        Box::new(health::Health),
        Box::new(node::Node),
        Box::new(node_kind::NodeKind),
        Box::new(site::Site),
        Box::new(latency::Latency),
        Box::new(affinity::Affinity),
    ]
}

#[cfg(test)]
pub(crate) mod fixture {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};

    use super::super::spec::{Context, Host};
    use crate::db::{node, site};

    /// A healthy x86 `idc` node at site `s1` (Paris, region `eu`).
    pub fn host(uuid: &str) -> Host {
        let t = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        Host {
            node: Arc::new(node::Model {
                uuid: uuid.into(),
                site_uuid: "s1".into(),
                hostname: uuid.into(),
                kind: "idc".into(),
                arch: "x86_64".into(),
                labels: "{}".into(),
                facts: "{}".into(),
                load: "{}".into(),
                images: "[]".into(),
                layers: "[]".into(),
                disabled: false,
                forced_down: false,
                down_reported: false,
                last_seen: Some(t),
                created_at: t,
                updated_at: t,
            }),
            site: Arc::new(site::Model {
                uuid: "s1".into(),
                kind: "idc".into(),
                region: "eu".into(),
                latitude: Some(48.8566),
                longitude: Some(2.3522),
                latency_ms: None,
                bandwidth_mbps: None,
                packet_loss: None,
                quality_at: None,
                created_at: t,
                updated_at: t,
            }),
            images: None,
            layers: None,
            devices: Vec::new(),
            free_share: 0.5,
            site_has_image: false,
        }
    }

    pub fn context() -> Context {
        Context {
            now: Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 30).unwrap(),
            stale_secs: 60,
            group_nodes: Default::default(),
        }
    }
}
