//! The node's network data plane, applied whole from the network
//! service's plan for the node (`virga_protocol::network::NodeNetwork`):
//! a bridge per network with its VXLAN / VLAN / flat segment (`bridge`),
//! a DHCP server per served network (`dhcp`, `dnsmasq`), routers with NAT
//! (`router`), and the ports' security groups (`nft`). Applying is
//! idempotent: what already matches the plan is left alone, what differs
//! is changed, what the plan no longer holds is removed.

pub mod bridge;
pub mod daemon;
pub mod dhcp;
pub mod dnsmasq;
pub mod host;
pub mod names;
pub mod nft;
pub mod nft_check;
pub mod nft_delta;
pub mod radvd;
pub mod reconcile;
pub mod router;
pub mod veth;

#[cfg(test)]
mod tests;

use virga_protocol::network::{NetworkPlan, NodeNetwork};

pub use host::{Host, NetplaneError};

/// How a whole pass treats the security-group filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Write it whole.
    Whole,
    /// Write it whole only when the kernel's maps, sets or chains differ
    /// from the plan's (`nft_check`).
    IfDrifted,
}

/// Applies `plan` on the node. Each part is applied even when another
/// fails; the errors say what is not as planned (the next pass retries).
pub fn apply(host: &Host, plan: &NodeNetwork) -> Vec<NetplaneError> {
    apply_keeping(host, plan, &nft::Indexes::new(), Filter::Whole).0
}

/// [`apply`], keeping the filter indexes of `indexes`; returns the
/// indexes now.
pub fn apply_keeping(
    host: &Host,
    plan: &NodeNetwork,
    indexes: &nft::Indexes,
    filter: Filter,
) -> (Vec<NetplaneError>, nft::Indexes) {
    let mut errors = Vec::new();
    // Bridged IP traffic goes through the IP hooks, where the security
    // groups' stateful filter is.
    for key in [
        "net.bridge.bridge-nf-call-iptables=1",
        "net.bridge.bridge-nf-call-ip6tables=1",
    ] {
        let set = || host.sysctl(None, key);
        if set().is_err() {
            // The keys exist once br_netfilter is loaded.
            let _ = host.run_in(Some(""), "modprobe", &["br_netfilter"], None);
            if let Err(e) = set() {
                errors.push(e);
            }
        }
    }
    let results = [
        bridge::apply(host, &plan.networks, &plan.ports, &mut errors),
        dhcp::apply(host, &plan.networks, &mut errors),
        router::apply(host, &plan.routers, &plan.networks, &mut errors),
    ];
    errors.extend(results.into_iter().filter_map(Result::err));
    let now = if filter == Filter::IfDrifted && nft_check::holds(host, plan, indexes) {
        indexes.clone()
    } else {
        write_filter(host, plan, indexes, &mut errors)
    };
    (errors, now)
}

/// Writes the filter of the plan's ports whole; returns the indexes it
/// holds now (`indexes` unchanged when it could not be written).
fn write_filter(
    host: &Host,
    plan: &NodeNetwork,
    indexes: &nft::Indexes,
    errors: &mut Vec<NetplaneError>,
) -> nft::Indexes {
    match nft::ruleset_with(plan, indexes)
        .map_err(NetplaneError::from)
        .and_then(|(rules, idx)| host.nft_load(None, &rules).map(|_| idx))
    {
        Ok(idx) => idx,
        Err(e) => {
            errors.push(e);
            indexes.clone()
        }
    }
}

/// The networks without their DHCP hosts (what changes when only ports
/// come and go).
fn without_hosts(networks: &[NetworkPlan]) -> Vec<NetworkPlan> {
    networks
        .iter()
        .cloned()
        .map(|mut n| {
            if let Some(d) = n.dhcp.as_mut() {
                d.hosts.clear();
            }
            n
        })
        .collect()
}

/// Applies `plan` on a node where `previous` was applied without errors:
/// only the parts that changed. A new port on known networks costs a DHCP
/// hosts update and the filter, not a walk over every bridge and server.
/// Drift behind the agent's back is [`apply`]'s to repair.
pub fn apply_changes(
    host: &Host,
    plan: &NodeNetwork,
    previous: &NodeNetwork,
    indexes: &nft::Indexes,
) -> (Vec<NetplaneError>, nft::Indexes) {
    if without_hosts(&plan.networks) != without_hosts(&previous.networks)
        || plan.routers != previous.routers
    {
        return apply_keeping(host, plan, indexes, Filter::Whole);
    }
    let mut errors = Vec::new();
    let mut results = Vec::new();
    if plan.networks != previous.networks {
        results.push(dhcp::hosts(host, &plan.networks, &mut errors));
    }
    let mut now = indexes.clone();
    if plan.ports != previous.ports {
        results.push(bridge::plug(host, &plan.networks, &plan.ports, &mut errors));
    }
    if plan.ports != previous.ports || plan.groups != previous.groups {
        let delta = nft_delta::changes(previous, plan, indexes)
            .map_err(NetplaneError::from)
            .and_then(|(script, idx)| host.nft_load(None, &script).map(|_| idx));
        now = match delta {
            Ok(idx) => idx,
            // The kernel does not hold what was written last: whole.
            Err(e) => {
                tracing::warn!(error = %virga_common::error::chain(&e),
                    "filter change refused; writing the filter whole");
                write_filter(host, plan, indexes, &mut errors)
            }
        };
    }
    errors.extend(results.into_iter().filter_map(Result::err));
    (errors, now)
}
