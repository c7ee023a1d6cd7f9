//! A namespace's leg on a network (a DHCP port, a router's interface): a
//! veth whose node end is on the network's bridge and whose other end,
//! inside the namespace, carries the port's MAC and addresses.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::host::{Host, NetplaneError};

/// One leg as planned.
pub struct Leg<'a> {
    pub ns: &'a str,
    /// The node end.
    pub outer: &'a str,
    /// The end inside the namespace.
    pub inner: &'a str,
    pub bridge: &'a str,
    pub mac: &'a str,
    pub mtu: u32,
}

/// Makes the leg as planned; `addresses` are with prefix length.
pub fn plug(host: &Host, leg: &Leg, addresses: &BTreeSet<String>) -> Result<(), NetplaneError> {
    if virga_common::mac::parse(leg.mac).is_none() {
        return Err(NetplaneError::Plan(format!("{:?} is not a MAC", leg.mac)));
    }
    let mtu = leg.mtu.to_string();
    let inside = host.links(Some(leg.ns))?;
    if !inside.iter().any(|l| l.ifname == leg.inner) {
        // A node end left from an earlier leg of that name.
        if host.ip(&["link", "show", "dev", leg.outer]).is_ok() {
            host.ip(&["link", "del", "dev", leg.outer])?;
        }
        host.ip(&[
            "link", "add", leg.outer, "type", "veth", "peer", "name", leg.inner, "netns", leg.ns,
        ])?;
        // The namespace's addresses are planned, not learnt.
        host.sysctl(
            Some(leg.ns),
            &format!("net.ipv6.conf.{}.accept_ra=0", leg.inner),
        )?;
    }
    host.ip(&[
        "link", "set", "dev", leg.outer, "mtu", &mtu, "master", leg.bridge, "up",
    ])?;
    host.ip_in(
        leg.ns,
        &[
            "link", "set", "dev", leg.inner, "address", leg.mac, "mtu", &mtu, "up",
        ],
    )?;
    set_addresses(host, leg.ns, leg.inner, addresses)
}

/// Makes the device's global addresses exactly `want`.
pub fn set_addresses(
    host: &Host,
    ns: &str,
    dev: &str,
    want: &BTreeSet<String>,
) -> Result<(), NetplaneError> {
    #[derive(Deserialize)]
    struct Iface {
        #[serde(default)]
        addr_info: Vec<Addr>,
    }
    #[derive(Deserialize)]
    struct Addr {
        local: String,
        prefixlen: u8,
        #[serde(default)]
        scope: String,
    }
    let ifaces: Vec<Iface> = host.json(Some(ns), "ip", &["-j", "addr", "show", "dev", dev])?;
    let have: BTreeSet<String> = ifaces
        .into_iter()
        .flat_map(|i| i.addr_info)
        .filter(|a| a.scope == "global")
        .map(|a| format!("{}/{}", a.local, a.prefixlen))
        .collect();
    for gone in have.difference(want) {
        host.ip_in(ns, &["addr", "del", gone, "dev", dev])?;
    }
    for new in want.difference(&have) {
        let mut args = vec!["addr", "add", new.as_str(), "dev", dev];
        if new.contains(':') {
            // Usable at once: the address is the network service's to give.
            args.push("nodad");
        }
        host.ip_in(ns, &args)?;
    }
    Ok(())
}

/// Removes the namespace's devices whose names start with one of
/// `prefixes` and are not in `keep`.
pub fn prune(
    host: &Host,
    ns: &str,
    prefixes: &[&str],
    keep: &BTreeSet<String>,
) -> Result<(), NetplaneError> {
    for l in host.links(Some(ns))? {
        if prefixes.iter().any(|p| l.ifname.starts_with(p)) && !keep.contains(&l.ifname) {
            host.ip_in(ns, &["link", "del", "dev", &l.ifname])?;
        }
    }
    Ok(())
}
