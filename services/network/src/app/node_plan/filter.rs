//! A guest port's filter: its addresses and its security groups' rules;
//! and the members of the remote groups those rules admit.

use std::collections::BTreeSet;

use virga_protocol::network::{
    AddressPair, Direction, Ethertype, FilterRule, PortFilter, RemoteGroup,
};

use super::build::{device, ips_of};
use super::snapshot::{Members, Snapshot};
use crate::app::security_group_rule::check;
use crate::db::port;

pub fn of_port(s: &Snapshot, p: &port::Model) -> PortFilter {
    let pairs: Vec<serde_json::Value> =
        serde_json::from_str(&p.allowed_address_pairs).unwrap_or_default();
    let mut rules = Vec::new();
    for group in s.port_groups.get(&p.id).into_iter().flatten() {
        for r in s.rules.get(group).into_iter().flatten() {
            let ethertype = if r.ethertype == "IPv6" {
                Ethertype::IPv6
            } else {
                Ethertype::IPv4
            };
            let (any_remote, remote_prefixes, remote_group) =
                match (&r.remote_ip_prefix, &r.remote_group_id) {
                    (Some(prefix), _) => (false, vec![prefix.clone()], None),
                    (None, Some(g)) => (false, vec![], Some(g.clone())),
                    (None, None) => (true, vec![], None),
                };
            rules.push(FilterRule {
                direction: if r.direction == "egress" {
                    Direction::Egress
                } else {
                    Direction::Ingress
                },
                ethertype,
                protocol: check::number(r.protocol.as_deref()),
                port_min: r.port_range_min.and_then(|v| u16::try_from(v).ok()),
                port_max: r.port_range_max.and_then(|v| u16::try_from(v).ok()),
                remote_prefixes,
                any_remote,
                remote_group,
            });
        }
    }
    PortFilter {
        port_id: p.id.clone(),
        device: device(&p.id),
        network_id: p.network_id.clone(),
        mac: p.mac_address.clone(),
        fixed_ips: ips_of(s, &p.id).into_iter().map(|(_, ip)| ip).collect(),
        allowed_address_pairs: pairs
            .iter()
            .filter_map(|v| {
                Some(AddressPair {
                    ip: v["ip_address"].as_str()?.to_owned(),
                    mac: v["mac_address"].as_str()?.to_owned(),
                })
            })
            .collect(),
        port_security: p.port_security_enabled,
        rules,
    }
}

/// The remote groups `ports`' rules admit, with their members' addresses
/// (sorted, so the plan's hash does not depend on row order).
pub fn remote_groups(members: &Members, ports: &[PortFilter]) -> Vec<RemoteGroup> {
    let named: BTreeSet<&str> = ports
        .iter()
        .flat_map(|p| &p.rules)
        .filter_map(|r| r.remote_group.as_deref())
        .collect();
    named
        .into_iter()
        .map(|g| RemoteGroup {
            group_id: g.to_owned(),
            addresses: [false, true]
                .iter()
                .flat_map(|v6| members.get(&(g.to_owned(), *v6)).into_iter().flatten())
                .filter_map(|a| a.parse().ok())
                .collect(),
        })
        .collect()
}
