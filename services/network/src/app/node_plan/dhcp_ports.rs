//! DHCP ports: one per network and node whose guests on it have a subnet
//! with DHCP enabled, bound to that node, with an address on each such
//! subnet. Each node serves its own guests' DHCP, so a site cut off from
//! the others keeps answering. A port missing a subnet it should serve is
//! made again; ports no node needs any more go.

use std::collections::{BTreeMap, BTreeSet};

use virga_common::Error;
use virga_db::sea_orm::ConnectionTrait;
use virga_service::ServiceContext;

use super::build::{DHCP_OWNER, is_guest};
use super::snapshot::Snapshot;
use crate::app::fixed_ips::IpRequest;
use crate::app::port::create_owned;
use crate::db::port;

/// Makes and removes DHCP ports as the snapshot's guests need; true when
/// anything changed.
pub async fn keep(
    db: &impl ConnectionTrait,
    ctx: &ServiceContext,
    s: &Snapshot,
) -> Result<bool, Error> {
    let nodes: BTreeSet<&str> = s.nodes.iter().map(|n| n.node_id.as_str()).collect();
    // Each network's DHCP-enabled subnets.
    let mut dhcp_subnets: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for sub in s.subnets.values().filter(|sub| sub.enable_dhcp) {
        dhcp_subnets
            .entry(sub.network_id.as_str())
            .or_default()
            .insert(sub.id.as_str());
    }
    // (network, node) → the DHCP-enabled subnets it should serve.
    let mut want: BTreeMap<(&str, &str), &BTreeSet<&str>> = BTreeMap::new();
    for p in s.ports.iter().filter(|p| is_guest(p)) {
        if let Some(subnets) = dhcp_subnets.get(p.network_id.as_str())
            && nodes.contains(p.binding_host_id.as_str())
        {
            want.insert((p.network_id.as_str(), p.binding_host_id.as_str()), subnets);
        }
    }
    let mut changed = false;
    for p in s.ports.iter().filter(|p| p.device_owner == DHCP_OWNER) {
        let key = (p.network_id.as_str(), p.binding_host_id.as_str());
        let held: BTreeSet<&str> = s
            .ips
            .get(&p.id)
            .into_iter()
            .flatten()
            .map(|(sub, _)| sub.as_str())
            .collect();
        match want.get(&key) {
            Some(subnets) if subnets.is_subset(&held) => {
                want.remove(&key);
            }
            _ => {
                port::delete(db, &p.id).await?;
                changed = true;
            }
        }
    }
    for ((network_id, node), subnets) in want {
        let Some(net) = s.networks.get(network_id) else {
            continue;
        };
        let requests: Vec<IpRequest> = subnets
            .iter()
            .map(|id| IpRequest {
                subnet_id: Some((*id).to_owned()),
                ip_address: None,
            })
            .collect();
        let doc = match create_owned(
            db,
            ctx,
            network_id,
            &net.project_id,
            DHCP_OWNER,
            &format!("dhcp-{node}"),
            Some(&requests),
        )
        .await
        {
            Ok(doc) => doc,
            // A full subnet: the node's guests go without DHCP there
            // (they keep their addresses); the other plans go on.
            Err(e) => {
                tracing::warn!(network = %network_id, %node, error = %virga_common::error::chain(&e),
                    "no DHCP port for the node");
                continue;
            }
        };
        let mut m = doc.model;
        m.binding_host_id = node.to_owned();
        port::update(db, m).await?;
        changed = true;
    }
    Ok(changed)
}
