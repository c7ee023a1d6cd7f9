//! Routers in plans: where each runs, and its legs, gateway and floating
//! IPs.

use std::collections::{BTreeMap, BTreeSet};

use virga_protocol::network::{Advertised, FloatingNat, RouterGateway, RouterLeg, RouterPlan};

use super::build::{dns_of, ips_of, ipv6_mode, is_guest, with_prefix};
use super::snapshot::Snapshot;
use crate::db::{port, router};

/// Where each router runs: with a gateway on a flat or VLAN network, the
/// first node (by id) with an interface on that physical network; else
/// the first node with guests on one of its networks. `None`: nowhere yet.
pub fn hosts(s: &Snapshot) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for r in &s.routers {
        let physical = r
            .gateway_network_id
            .as_ref()
            .and_then(|id| s.networks.get(id))
            .filter(|n| n.network_type == "flat" || n.network_type == "vlan")
            .map(|n| n.physical_network.clone());
        let host = match physical {
            Some(phys) => s
                .nodes
                .iter()
                .find(|n| n.physical_networks.contains(&phys))
                .map(|n| n.node_id.clone()),
            None => {
                let nets: BTreeSet<&str> = s
                    .router_legs(&r.id, false)
                    .map(|p| p.network_id.as_str())
                    .collect();
                s.nodes
                    .iter()
                    .find(|n| {
                        s.ports.iter().any(|p| {
                            is_guest(p)
                                && p.binding_host_id == n.node_id
                                && nets.contains(p.network_id.as_str())
                        })
                    })
                    .map(|n| n.node_id.clone())
            }
        };
        if let Some(h) = host {
            out.insert(r.id.clone(), h);
        }
    }
    out
}

/// A router's leg; an interface advertises itself on its IPv6 subnets.
fn leg(s: &Snapshot, p: &port::Model, interface: bool) -> RouterLeg {
    let ips = ips_of(s, &p.id);
    RouterLeg {
        port_id: p.id.clone(),
        network_id: p.network_id.clone(),
        mac: p.mac_address.clone(),
        addresses: ips.iter().map(|(sub, ip)| with_prefix(sub, *ip)).collect(),
        advertise: ips
            .iter()
            .filter(|(sub, ip)| interface && ip.is_ipv6() && sub.ip_version == 6)
            .map(|(sub, _)| Advertised {
                cidr: sub.cidr.clone(),
                mode: ipv6_mode(sub.ipv6_ra_mode.as_deref()),
                dns_nameservers: dns_of(sub),
            })
            .collect(),
    }
}

pub fn plan(s: &Snapshot, r: &router::Model) -> RouterPlan {
    let gateway = s
        .router_legs(&r.id, true)
        .find(|p| p.device_owner == router::GATEWAY)
        .map(|p| RouterGateway {
            leg: leg(s, p, false),
            next_hops: ips_of(s, &p.id)
                .into_iter()
                .filter_map(|(sub, _)| sub.gateway_ip.as_deref()?.parse().ok())
                .collect(),
            snat: r.enable_snat,
        });
    RouterPlan {
        router_id: r.id.clone(),
        gateway,
        interfaces: s
            .router_legs(&r.id, false)
            .map(|p| leg(s, p, true))
            .collect(),
        floating_ips: s
            .floating_ips
            .iter()
            .filter(|f| f.router_id.as_deref() == Some(r.id.as_str()))
            .filter_map(|f| {
                Some(FloatingNat {
                    floating_ip: f.floating_ip_address.parse().ok()?,
                    fixed_ip: f.fixed_ip_address.as_deref()?.parse().ok()?,
                })
            })
            .collect(),
    }
}
