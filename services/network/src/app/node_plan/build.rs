//! Each node's plan from a snapshot of the network service's state (pure:
//! no queries). A node carries the networks of its bound ports, of the
//! DHCP ports bound to it and of the routers it hosts; VXLAN peers are the
//! other nodes carrying the same network.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use virga_protocol::network::{
    DhcpHost, DhcpPlan, DhcpSubnet, HostRoute, Ipv6Mode, NetworkPlan, NodeNetwork, Segment,
};

use super::snapshot::Snapshot;
use super::{filter, router};
use crate::app::subnet::net_of;
use crate::db::{network, port, subnet};

pub use crate::db::port::DHCP_OWNER;

/// The host-side device of a guest's port: `tap` and the first 11
/// characters of the port's id, as Nova names it.
pub fn device(port_id: &str) -> String {
    format!("tap{}", &port_id[..port_id.len().min(11)])
}

/// Whether a port is a guest's (not the network service's own).
pub fn is_guest(p: &port::Model) -> bool {
    !p.device_owner.starts_with("network:")
}

/// Every known node's plan.
pub fn plans(s: &Snapshot) -> BTreeMap<String, NodeNetwork> {
    let hosts = router::hosts(s);
    let members = s.members();
    // Which networks each node carries.
    let mut carried: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for n in &s.nodes {
        carried.entry(n.node_id.as_str()).or_default();
    }
    for p in &s.ports {
        if (is_guest(p) || p.device_owner == DHCP_OWNER)
            && let Some(set) = carried.get_mut(p.binding_host_id.as_str())
        {
            set.insert(p.network_id.as_str());
        }
    }
    for (router_id, node) in &hosts {
        if let Some(set) = carried.get_mut(node.as_str()) {
            for leg in s.router_legs(router_id, true) {
                set.insert(leg.network_id.as_str());
            }
        }
    }
    let mut out = BTreeMap::new();
    for n in &s.nodes {
        let node = n.node_id.as_str();
        let mut plan = NodeNetwork::default();
        for net_id in &carried[node] {
            let Some(net) = s.networks.get(*net_id) else {
                continue;
            };
            let Some(segment) = segment(s, net, node, &carried) else {
                continue;
            };
            plan.networks.push(NetworkPlan {
                network_id: net.id.clone(),
                segment,
                mtu: net.mtu.max(68) as u32,
                dhcp: dhcp(s, net, node),
            });
        }
        for p in s
            .ports
            .iter()
            .filter(|p| is_guest(p) && p.binding_host_id == node)
        {
            plan.ports.push(filter::of_port(s, p));
        }
        plan.groups = filter::remote_groups(&members, &plan.ports);
        for r in s
            .routers
            .iter()
            .filter(|r| hosts.get(&r.id).map(String::as_str) == Some(node))
        {
            plan.routers.push(router::plan(s, r));
        }
        out.insert(node.to_owned(), plan);
    }
    out
}

fn segment(
    s: &Snapshot,
    net: &network::Model,
    node: &str,
    carried: &BTreeMap<&str, BTreeSet<&str>>,
) -> Option<Segment> {
    Some(match net.network_type.as_str() {
        "vxlan" => Segment::Vxlan {
            vni: u32::try_from(net.segmentation_id).ok()?,
            peers: s
                .nodes
                .iter()
                .filter(|o| {
                    o.node_id != node && carried[o.node_id.as_str()].contains(net.id.as_str())
                })
                .filter_map(|o| o.tunnel_ip.as_deref()?.parse().ok())
                .collect(),
        },
        "vlan" => Segment::Vlan {
            physical_network: net.physical_network.clone(),
            vlan_id: u16::try_from(net.segmentation_id).ok()?,
        },
        "flat" => Segment::Flat {
            physical_network: net.physical_network.clone(),
        },
        _ => return None,
    })
}

pub(super) fn ips_of<'s>(s: &'s Snapshot, port_id: &str) -> Vec<(&'s subnet::Model, IpAddr)> {
    s.ips
        .get(port_id)
        .into_iter()
        .flatten()
        .filter_map(|(subnet_id, ip)| Some((s.subnets.get(subnet_id)?, ip.parse().ok()?)))
        .collect()
}

/// A subnet's `ipv6_address_mode` or `ipv6_ra_mode`.
pub(super) fn ipv6_mode(mode: Option<&str>) -> Option<Ipv6Mode> {
    match mode {
        Some("slaac") => Some(Ipv6Mode::Slaac),
        Some("dhcpv6-stateful") => Some(Ipv6Mode::Dhcpv6Stateful),
        Some("dhcpv6-stateless") => Some(Ipv6Mode::Dhcpv6Stateless),
        _ => None,
    }
}

/// A subnet's DNS servers.
pub(super) fn dns_of(sub: &subnet::Model) -> Vec<IpAddr> {
    serde_json::from_str::<Vec<String>>(&sub.dns_nameservers)
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.parse().ok())
        .collect()
}

pub(super) fn with_prefix(sub: &subnet::Model, ip: IpAddr) -> String {
    let len = net_of(sub).map_or(32, |n| n.prefix_len());
    format!("{ip}/{len}")
}

fn dhcp(s: &Snapshot, net: &network::Model, node: &str) -> Option<DhcpPlan> {
    let port = s.ports.iter().find(|p| {
        p.device_owner == DHCP_OWNER && p.network_id == net.id && p.binding_host_id == node
    })?;
    let subnets = ips_of(s, &port.id)
        .into_iter()
        .filter(|(sub, _)| sub.enable_dhcp)
        .map(|(sub, address)| DhcpSubnet {
            subnet_id: sub.id.clone(),
            cidr: sub.cidr.clone(),
            address,
            gateway: sub.gateway_ip.as_deref().and_then(|g| g.parse().ok()),
            dns_nameservers: dns_of(sub),
            host_routes: serde_json::from_str::<Vec<serde_json::Value>>(&sub.host_routes)
                .unwrap_or_default()
                .iter()
                .filter_map(|r| {
                    Some(HostRoute {
                        destination: r["destination"].as_str()?.to_owned(),
                        nexthop: r["nexthop"].as_str()?.parse().ok()?,
                    })
                })
                .collect(),
            ipv6_mode: ipv6_mode(sub.ipv6_address_mode.as_deref()),
        })
        .collect();
    let hosts = s
        .ports
        .iter()
        .filter(|p| is_guest(p) && p.network_id == net.id && p.binding_host_id == node)
        .map(|p| DhcpHost {
            mac: p.mac_address.clone(),
            ips: ips_of(s, &p.id).into_iter().map(|(_, ip)| ip).collect(),
            hostname: None,
        })
        .collect();
    Some(DhcpPlan {
        port_id: port.id.clone(),
        mac: port.mac_address.clone(),
        subnets,
        hosts,
    })
}
