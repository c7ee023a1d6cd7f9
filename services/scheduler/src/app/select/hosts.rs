//! From allocation candidates to hosts: keep those whose `node` group is
//! a registered node and whose devices hang under that node, and load
//! the node, site and usage facts the filters and weighers need, all
//! set-based.

use std::collections::{BTreeMap, BTreeSet};

use virga_common::Error;
use virga_service::ServiceContext;

use super::spec::{Host, Spec};
use crate::app::allocation_candidate::Candidates;
use crate::app::capacity;
use crate::app::inventory::Inventory;
use crate::db::{candidate, node, site};

/// The group suffix of the node's own resources, and of device `i`'s.
pub const NODE_GROUP: &str = "node";

pub fn device_group(i: usize) -> String {
    format!("dev{i}")
}

pub async fn build(
    ctx: &ServiceContext,
    spec: &Spec,
    found: Candidates,
) -> Result<Vec<Host>, Error> {
    let db = ctx.db();
    let node_of = |m: &BTreeMap<String, BTreeSet<String>>| {
        m.get(NODE_GROUP).and_then(|s| s.iter().next().cloned())
    };
    let node_ids: Vec<String> = found
        .mappings
        .iter()
        .filter_map(node_of)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let nodes: BTreeMap<String, node::Model> = node::many(db, &node_ids)
        .await?
        .into_iter()
        .map(|n| (n.uuid.clone(), n))
        .collect();
    let site_ids: Vec<String> = nodes
        .values()
        .map(|n| n.site_uuid.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let sites: BTreeMap<String, site::Model> = site::many(db, &site_ids)
        .await?
        .into_iter()
        .map(|s| (s.uuid.clone(), s))
        .collect();
    let device_ids: Vec<String> = found
        .mappings
        .iter()
        .flat_map(|m| {
            m.iter()
                .filter(|(g, _)| *g != NODE_GROUP)
                .flat_map(|(_, ps)| ps.iter().cloned())
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let parent: BTreeMap<String, Option<String>> = candidate::providers(db, &device_ids)
        .await?
        .into_iter()
        .map(|p| (p.uuid, p.parent_uuid))
        .collect();
    let usage = free_shares(ctx, spec, &node_ids).await?;
    let with_image: BTreeSet<&String> = match &spec.image_id {
        Some(img) => nodes
            .values()
            .filter(|n| n.images.contains(&format!("\"{img}\"")))
            .map(|n| &n.site_uuid)
            .collect(),
        None => BTreeSet::new(),
    };
    let mut out = Vec::new();
    for (allocation, mapping) in found.allocations.into_iter().zip(&found.mappings) {
        let Some(n) = node_of(mapping).and_then(|id| nodes.get(&id)) else {
            continue;
        };
        let under_node = mapping
            .iter()
            .filter(|(g, _)| *g != NODE_GROUP)
            .flat_map(|(_, ps)| ps)
            .all(|d| parent.get(d).and_then(|p| p.as_deref()) == Some(n.uuid.as_str()));
        let Some(s) = sites.get(&n.site_uuid) else {
            continue;
        };
        if !under_node {
            continue;
        }
        out.push(Host {
            node: n.clone(),
            site: s.clone(),
            allocation,
            free_share: usage.get(&n.uuid).copied().unwrap_or(0.0),
            site_has_image: with_image.contains(&n.site_uuid),
        });
    }
    Ok(out)
}

/// Each node's free share of VCPU and MEMORY_MB after taking the request.
async fn free_shares(
    ctx: &ServiceContext,
    spec: &Spec,
    nodes: &[String],
) -> Result<BTreeMap<String, f64>, Error> {
    let mut parts: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for m in candidate::inventories(ctx.db(), nodes).await? {
        let used = m.used;
        if m.resource_class != "VCPU" && m.resource_class != "MEMORY_MB" {
            continue;
        }
        let cap = capacity::capacity(&Inventory::of(&m)) as f64;
        let want = spec.resources.get(&m.resource_class).copied().unwrap_or(0) as f64;
        if cap > 0.0 {
            parts
                .entry(m.provider_uuid)
                .or_default()
                .push(((cap - used as f64 - want) / cap).max(0.0));
        }
    }
    Ok(parts
        .into_iter()
        .map(|(n, v)| (n, v.iter().sum::<f64>() / v.len() as f64))
        .collect())
}
