//! Routers as network namespaces: a leg per interface (`qr-`) and one on
//! the external network (`qg-`), forwarding on, a default route to the
//! external network's gateway, and NAT in the namespace's own nftables:
//! each floating IP translated both ways to its fixed address (the
//! floating address sits on the gateway leg, so the router answers ARP
//! for it) and, with SNAT on, everything else from inside leaving as the
//! gateway's address; IPv6 router advertisements on the interfaces
//! (`super::radvd`). Routers no longer planned lose their namespace.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use std::net::IpAddr;

use virga_protocol::network::{NetworkPlan, RouterLeg, RouterPlan};

use super::host::{Host, NetplaneError};
use super::names;
use super::radvd;
use super::veth::{self, Leg};

/// Applies `routers` and removes the others.
pub fn apply(
    host: &Host,
    routers: &[RouterPlan],
    networks: &[NetworkPlan],
    errors: &mut Vec<NetplaneError>,
) -> Result<(), NetplaneError> {
    let mtus: HashMap<&str, u32> = networks
        .iter()
        .map(|n| (n.network_id.as_str(), n.mtu))
        .collect();
    let mut keep = BTreeSet::new();
    for r in routers {
        if let Ok(ns) = names::router_namespace(&host.ns_prefix, &r.router_id) {
            keep.insert(ns);
        }
        if let Err(e) = router(host, r, &mtus) {
            errors.push(e);
        }
    }
    let prefix = format!("{}router-", host.ns_prefix);
    for ns in host.namespaces(&prefix)? {
        if keep.contains(&ns) {
            continue;
        }
        radvd::stop(&radvd::dir(host, &ns[prefix.len()..]));
        if let Err(e) = host.remove_namespace(&ns) {
            errors.push(e);
        }
    }
    Ok(())
}

fn router(host: &Host, r: &RouterPlan, mtus: &HashMap<&str, u32>) -> Result<(), NetplaneError> {
    let ns = names::router_namespace(&host.ns_prefix, &r.router_id)?;
    host.ensure_namespace(&ns)?;
    for key in ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"] {
        host.sysctl(Some(&ns), key)?;
    }
    let mut keep = BTreeSet::new();
    let gateway = r.gateway.as_ref();
    let legs = gateway
        .map(|g| (&g.leg, true))
        .into_iter()
        .chain(r.interfaces.iter().map(|l| (l, false)));
    for (leg, is_gateway) in legs {
        let inner = names::router_inner(&leg.port_id, is_gateway)?;
        let mut addresses: BTreeSet<String> = leg.addresses.iter().cloned().collect();
        if is_gateway {
            addresses.extend(r.floating_ips.iter().map(|f| match f.floating_ip {
                IpAddr::V4(a) => format!("{a}/32"),
                IpAddr::V6(a) => format!("{a}/128"),
            }));
        }
        let plan = Leg {
            ns: &ns,
            outer: &names::router_outer(&leg.port_id)?,
            inner: &inner,
            bridge: &names::bridge(&leg.network_id)?,
            mac: &leg.mac,
            mtu: mtus.get(leg.network_id.as_str()).copied().unwrap_or(1500),
        };
        veth::plug(host, &plan, &addresses)?;
        keep.insert(inner);
    }
    veth::prune(host, &ns, &["qr-", "qg-"], &keep)?;
    for v6 in [false, true] {
        let hop = gateway.and_then(|g| g.next_hops.iter().find(|h| h.is_ipv6() == v6));
        let family = if v6 { "-6" } else { "-4" };
        match hop {
            Some(hop) => {
                host.ip_in(
                    &ns,
                    &[
                        family,
                        "route",
                        "replace",
                        "default",
                        "via",
                        &hop.to_string(),
                    ],
                )?;
            }
            None => {
                // Nothing to delete is fine.
                let _ = host.ip_in(&ns, &[family, "route", "del", "default"]);
            }
        }
    }
    let rules = nat(r)?;
    host.nft_load(Some(&ns), &rules)?;
    let conf = radvd::config(r, mtus)?;
    radvd::apply(host, &ns, &radvd::dir(host, &r.router_id), conf.as_deref())
}

/// The first IPv4 address of a leg, without its prefix length.
fn first_v4(leg: &RouterLeg) -> Option<String> {
    leg.addresses
        .iter()
        .filter_map(|a| a.split('/').next())
        .find(|a| a.parse::<std::net::Ipv4Addr>().is_ok())
        .map(str::to_owned)
}

/// The router's NAT table, replacing what was there in one transaction.
pub fn nat(r: &RouterPlan) -> Result<String, NetplaneError> {
    let mut pre = String::new();
    let mut post = String::new();
    if let Some(g) = &r.gateway {
        let qg = names::router_inner(&g.leg.port_id, true)?;
        for f in &r.floating_ips {
            if let (IpAddr::V4(float), IpAddr::V4(fixed)) = (f.floating_ip, f.fixed_ip) {
                let _ = writeln!(pre, "        ip daddr {float} dnat to {fixed}");
                let _ = writeln!(
                    post,
                    "        oifname \"{qg}\" ip saddr {fixed} snat to {float}"
                );
            }
        }
        if g.snat
            && let Some(addr) = first_v4(&g.leg)
        {
            let _ = writeln!(
                post,
                "        oifname \"{qg}\" iifname != \"{qg}\" snat to {addr}"
            );
        }
    }
    Ok(format!(
        "table ip virga_nat\n\
         delete table ip virga_nat\n\
         table ip virga_nat {{\n\
         \x20   chain prerouting {{\n\
         \x20       type nat hook prerouting priority dstnat; policy accept;\n\
         {pre}\
         \x20   }}\n\
         \x20   chain postrouting {{\n\
         \x20       type nat hook postrouting priority srcnat; policy accept;\n\
         {post}\
         \x20   }}\n\
         }}\n"
    ))
}
