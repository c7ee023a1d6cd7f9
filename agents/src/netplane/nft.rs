//! Security groups as nftables, for ports on Linux bridges.
//!
//! Conntrack is not available to the `bridge` family on every kernel
//! (`nf_conntrack_bridge`), so filtering takes two tables:
//!
//! - `bridge virga`, before bridging: a frame from a Virga port's device
//!   jumps (verdict map `in_ports`) to the port's `in_<port>` chain, which
//!   marks it with the port's index (high 16 bits of the packet mark) and
//!   checks statelessly what leaves the guest: its MACs, its addresses
//!   (ARP, IPv4, IPv6), no DHCP server or router advertisements of its
//!   own; a frame to a port's device jumps (`out_ports`) to `out_<port>`,
//!   which marks the low 16 bits.
//! - `inet virga`, on the bridged IP traffic br_netfilter hands to the IP
//!   hooks (`net.bridge.bridge-nf-call-ip{,6}tables=1` in the bridge's
//!   namespace): stateful. Replies to allowed traffic pass; new traffic
//!   passes the sender's egress rules (`from_<port>`, found by its mark in
//!   `from_marks`, returning when they allow) and the receiver's ingress
//!   rules (`to_<port>`, by `to_marks`); what no rule allows is dropped.
//!
//! A rule admitting a remote group matches a named set of the group's
//! members (`g4_<group>`, `g6_<group>` in `inet virga`), so a guest
//! joining a group adds an element instead of rewriting every chain that
//! admits the group.
//!
//! [`ruleset`] writes both tables whole, replacing what was there in one
//! transaction (a node never runs half a ruleset); `super::nft_delta`
//! changes only the ports and sets that changed, through the maps, so a
//! node with many ports does not re-parse them all for one more. Each
//! port keeps its index while it exists ([`Indexes`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::{IpAddr, Ipv6Addr};

use virga_protocol::network::{Direction, Ethertype, FilterRule, NodeNetwork, PortFilter};

pub const TABLE: &str = "virga";

/// A chain or set name: a prefix and an id with what nft identifiers may
/// not hold replaced.
fn chain(prefix: &str, id: &str) -> String {
    let id: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{id}")
}

/// The name of a remote group's set of `ethertype` addresses.
pub fn group_set(ethertype: Ethertype, group_id: &str) -> String {
    match ethertype {
        Ethertype::IPv4 => chain("g4", group_id),
        Ethertype::IPv6 => chain("g6", group_id),
    }
}

/// A remote group's members as set elements: (IPv4, IPv6).
pub type Members = (BTreeSet<String>, BTreeSet<String>);

/// The sets of the remote groups the filtered ports' rules admit, by
/// group id; a group the plan does not list is empty.
pub fn group_sets(plan: &NodeNetwork) -> BTreeMap<String, Members> {
    let mut out: BTreeMap<String, Members> = filtered(&plan.ports)
        .values()
        .flat_map(|p| &p.rules)
        .filter_map(|r| r.remote_group.clone())
        .map(|g| (g, Members::default()))
        .collect();
    for g in &plan.groups {
        if let Some((v4, v6)) = out.get_mut(&g.group_id) {
            for a in &g.addresses {
                match a {
                    IpAddr::V4(_) => v4.insert(a.to_string()),
                    IpAddr::V6(_) => v6.insert(a.to_string()),
                };
            }
        }
    }
    out
}

/// A set's declaration (its type), as written in a `set` block or after
/// `add set`.
pub fn set_type(ethertype: Ethertype) -> &'static str {
    match ethertype {
        Ethertype::IPv4 => "{ type ipv4_addr; }",
        Ethertype::IPv6 => "{ type ipv6_addr; }",
    }
}

/// A quoted interface name (names come from the network service; quotes
/// and backslashes are refused rather than escaped).
fn device(name: &str) -> Option<String> {
    (!name.is_empty()
        && name.len() <= 15
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\'))
    .then(|| format!("\"{name}\""))
}

/// The IPv6 link-local address a MAC gives (RFC 4291).
fn link_local(mac: &str) -> Option<IpAddr> {
    let iid = virga_common::mac::eui64_interface_id(virga_common::mac::parse(mac)?);
    Some(IpAddr::V6(Ipv6Addr::from(
        (0xfe80u128 << 112) | iid as u128,
    )))
}

/// One security group rule as an nftables rule ending in `verdict`;
/// `None` when it admits nobody (a remote group without members).
fn rule(r: &FilterRule, verdict: &str) -> Option<String> {
    let l3 = match r.ethertype {
        Ethertype::IPv4 => "ip",
        Ethertype::IPv6 => "ip6",
    };
    let mut out = format!("meta nfproto {}", if l3 == "ip" { "ipv4" } else { "ipv6" });
    let side = match r.direction {
        Direction::Ingress => "saddr",
        Direction::Egress => "daddr",
    };
    if let Some(g) = &r.remote_group {
        write!(out, " {l3} {side} @{}", group_set(r.ethertype, g)).ok()?;
    } else if !r.any_remote {
        if r.remote_prefixes.is_empty() {
            return None;
        }
        write!(out, " {l3} {side} {}", elements(&r.remote_prefixes)).ok()?;
    }
    match (r.protocol, r.ethertype) {
        (None, _) => {}
        (Some(p @ 1), Ethertype::IPv4) | (Some(p @ 58), Ethertype::IPv6) => {
            let icmp = if p == 1 { "icmp" } else { "icmpv6" };
            write!(out, " meta l4proto {p}").ok()?;
            if let Some(t) = r.port_min {
                write!(out, " {icmp} type {t}").ok()?;
            }
            if let Some(c) = r.port_max {
                write!(out, " {icmp} code {c}").ok()?;
            }
        }
        (Some(p @ (6 | 17 | 132 | 33)), _) => {
            write!(out, " meta l4proto {p}").ok()?;
            match (r.port_min, r.port_max) {
                (Some(a), Some(b)) if a == b => write!(out, " th dport {a}").ok()?,
                (Some(a), Some(b)) => write!(out, " th dport {a}-{b}").ok()?,
                _ => {}
            }
        }
        (Some(p), _) => write!(out, " meta l4proto {p}").ok()?,
    }
    write!(out, " {verdict}").ok()?;
    Some(out)
}

/// Each filtered port's index (1..=65535), kept while the port exists.
pub type Indexes = BTreeMap<String, u32>;

/// One filtered port's chains, as rule lines.
pub struct PortChains {
    pub index: u32,
    /// The quoted device name.
    pub device: String,
    pub in_chain: String,
    pub out_chain: String,
    pub from_chain: String,
    pub to_chain: String,
    pub in_rules: Vec<String>,
    pub out_rules: Vec<String>,
    pub from_rules: Vec<String>,
    pub to_rules: Vec<String>,
}

impl PortChains {
    pub fn high(&self) -> String {
        format!("{:#010x}", self.index << 16)
    }

    pub fn low(&self) -> String {
        format!("{:#010x}", self.index)
    }

    /// The verdict maps, by family: (family, map).
    pub const MAPS: [(&'static str, &'static str); 4] = [
        ("bridge", "in_ports"),
        ("bridge", "out_ports"),
        ("inet", "from_marks"),
        ("inet", "to_marks"),
    ];

    /// The port's element in each of [`Self::MAPS`]: (family, map, key,
    /// chain).
    pub fn map_entries(&self) -> [(&'static str, &'static str, String, &str); 4] {
        let [a, b, c, d] = Self::MAPS;
        [
            (a.0, a.1, self.device.clone(), &self.in_chain),
            (b.0, b.1, self.device.clone(), &self.out_chain),
            (c.0, c.1, self.high(), &self.from_chain),
            (d.0, d.1, self.low(), &self.to_chain),
        ]
    }

    /// Every chain of the port: (family, name, rules).
    pub fn chains(&self) -> [(&'static str, &str, &[String]); 4] {
        [
            ("bridge", &self.in_chain, &self.in_rules),
            ("bridge", &self.out_chain, &self.out_rules),
            ("inet", &self.from_chain, &self.from_rules),
            ("inet", &self.to_chain, &self.to_rules),
        ]
    }
}

/// The chains of port `p` with index `index`; `None` when its device name
/// is unusable.
pub fn port_chains(p: &PortFilter, index: u32) -> Option<PortChains> {
    let dev = device(&p.device)?;
    let high = index << 16;
    let mut macs = vec![p.mac.to_ascii_lowercase()];
    let mut v4: Vec<String> = Vec::new();
    let mut v6: Vec<String> = vec!["::".into()];
    v6.extend(link_local(&p.mac).map(|a| a.to_string()));
    for ip in &p.fixed_ips {
        match ip {
            IpAddr::V4(_) => v4.push(ip.to_string()),
            IpAddr::V6(_) => v6.push(ip.to_string()),
        }
    }
    for pair in &p.allowed_address_pairs {
        let m = pair.mac.to_ascii_lowercase();
        if !macs.contains(&m) {
            macs.push(m);
        }
        if pair.ip.contains(':') {
            v6.push(pair.ip.clone());
        } else {
            v4.push(pair.ip.clone());
        }
    }
    // Stateless checks of what leaves the guest, after marking it.
    let mut in_rules = vec![
        format!("meta mark set meta mark & 0x0000ffff | {high:#010x}"),
        format!("ether saddr != {} drop", elements(&macs)),
    ];
    let mut arp_ok = v4.clone();
    arp_ok.push("0.0.0.0".into());
    in_rules.push(format!(
        "ether type arp arp saddr ip != {} drop",
        elements(&arp_ok)
    ));
    in_rules.push("ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 return".into());
    if v4.is_empty() {
        in_rules.push("ether type ip drop".into());
    } else {
        in_rules.push(format!("ether type ip ip saddr != {} drop", elements(&v4)));
    }
    in_rules.push(format!(
        "ether type ip6 ip6 saddr != {} drop",
        elements(&v6)
    ));
    in_rules.push("ether type ip6 icmpv6 type { nd-router-advert, nd-redirect } drop".into());
    in_rules.push("ether type ip udp sport 67 drop".into());
    in_rules.push("ether type ip6 udp sport 547 drop".into());
    let out_rules = vec![format!(
        "meta mark set meta mark & 0xffff0000 | {index:#010x}"
    )];
    // Stateful: egress rules return (the receiver decides next), ingress
    // rules accept.
    let mut from_rules = vec![
        "meta nfproto ipv4 udp sport 68 udp dport 67 return".to_owned(),
        "meta nfproto ipv6 meta l4proto 58 icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } return".into(),
    ];
    from_rules.extend(
        p.rules
            .iter()
            .filter(|r| r.direction == Direction::Egress)
            .filter_map(|r| rule(r, "return")),
    );
    from_rules.push("drop".into());
    let mut to_rules = vec![
        "meta nfproto ipv4 udp sport 67 udp dport 68 accept".to_owned(),
        "meta nfproto ipv6 udp sport 547 udp dport 546 accept".into(),
        "meta nfproto ipv6 meta l4proto 58 icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } accept".into(),
    ];
    to_rules.extend(
        p.rules
            .iter()
            .filter(|r| r.direction == Direction::Ingress)
            .filter_map(|r| rule(r, "accept")),
    );
    to_rules.push("drop".into());
    Some(PortChains {
        index,
        device: dev,
        in_chain: chain("in", &p.port_id),
        out_chain: chain("out", &p.port_id),
        from_chain: chain("from", &p.port_id),
        to_chain: chain("to", &p.port_id),
        in_rules,
        out_rules,
        from_rules,
        to_rules,
    })
}

/// Why a port's filter cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesetError {
    #[error("port {port_id}: device name {device:?} is not a usable interface name")]
    BadDevice { port_id: String, device: String },
    #[error("more than 65535 filtered ports on one node")]
    TooManyPorts,
}

/// The filtered ports (those with port security), by id.
pub fn filtered(ports: &[PortFilter]) -> BTreeMap<&str, &PortFilter> {
    ports
        .iter()
        .filter(|p| p.port_security)
        .map(|p| (p.port_id.as_str(), p))
        .collect()
}

/// Indexes for `ports`: each keeps the one it had in `previous`, new ones
/// take the smallest free.
pub fn assign(ports: &[PortFilter], previous: &Indexes) -> Result<Indexes, RulesetError> {
    let wanted = filtered(ports);
    let mut out: Indexes = previous
        .iter()
        .filter(|(id, _)| wanted.contains_key(id.as_str()))
        .map(|(id, i)| (id.clone(), *i))
        .collect();
    let mut used: BTreeSet<u32> = out.values().copied().collect();
    let mut next = 1u32;
    for id in wanted.keys() {
        if out.contains_key(*id) {
            continue;
        }
        while used.contains(&next) {
            next += 1;
        }
        if next > 0xffff {
            return Err(RulesetError::TooManyPorts);
        }
        used.insert(next);
        out.insert((*id).to_owned(), next);
    }
    Ok(out)
}

/// The chains of every filtered port, with the indexes given.
pub fn all_chains(ports: &[PortFilter], idx: &Indexes) -> Result<Vec<PortChains>, RulesetError> {
    filtered(ports)
        .into_values()
        .map(|p| {
            port_chains(p, idx[&p.port_id]).ok_or_else(|| RulesetError::BadDevice {
                port_id: p.port_id.clone(),
                device: p.device.clone(),
            })
        })
        .collect()
}

fn chain_block(out: &mut String, name: &str, rules: &[String]) {
    let _ = writeln!(out, "    chain {name} {{");
    for r in rules {
        let _ = writeln!(out, "        {r}");
    }
    let _ = writeln!(out, "    }}");
}

/// The elements of a set or map, as written after `elements =`.
pub fn elements<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> String {
    let e: Vec<T> = items.into_iter().collect();
    let e: Vec<&str> = e.iter().map(AsRef::as_ref).collect();
    format!("{{ {} }}", e.join(", "))
}

/// Both tables for the plan's ports, as one `nft -f` input that replaces
/// whatever a previous run left, with fresh indexes. Ports without port
/// security are not filtered at all.
pub fn ruleset(plan: &NodeNetwork) -> Result<String, RulesetError> {
    ruleset_with(plan, &Indexes::new()).map(|(r, _)| r)
}

/// [`ruleset`], keeping the indexes of `previous`; returns the indexes too.
pub fn ruleset_with(
    plan: &NodeNetwork,
    previous: &Indexes,
) -> Result<(String, Indexes), RulesetError> {
    let idx = assign(&plan.ports, previous)?;
    let parts = all_chains(&plan.ports, &idx)?;
    let mut out = String::new();
    // Declare, delete, define: one transaction whether or not they existed.
    for family in ["bridge", "inet"] {
        let _ = writeln!(out, "table {family} {TABLE}");
        let _ = writeln!(out, "delete table {family} {TABLE}");
    }
    for (family, hook) in [("bridge", "ports"), ("inet", "forward")] {
        let _ = writeln!(out, "table {family} {TABLE} {{");
        for (i, (map_family, map)) in PortChains::MAPS.iter().enumerate() {
            if *map_family != family {
                continue;
            }
            let key = if family == "bridge" { "ifname" } else { "mark" };
            let _ = write!(out, "    map {map} {{ type {key} : verdict;");
            if !parts.is_empty() {
                let entries = parts.iter().map(|c| {
                    let (_, _, k, chain) = &c.map_entries()[i];
                    format!("{k} : jump {chain}")
                });
                let _ = write!(out, " elements = {}", elements(entries));
            }
            let _ = writeln!(out, " }}");
        }
        if family == "inet" {
            for (group, (v4, v6)) in group_sets(plan) {
                for (ethertype, members) in [(Ethertype::IPv4, v4), (Ethertype::IPv6, v6)] {
                    let decl = set_type(ethertype).trim_end_matches(" }");
                    let _ = write!(out, "    set {} {decl}", group_set(ethertype, &group));
                    if !members.is_empty() {
                        let _ = write!(out, " elements = {};", elements(&members));
                    }
                    let _ = writeln!(out, " }}");
                }
            }
        }
        for c in &parts {
            for (f, name, rules) in c.chains() {
                if f == family {
                    chain_block(&mut out, name, rules);
                }
            }
        }
        let base: &[&str] = if family == "bridge" {
            &[
                "type filter hook forward priority -300; policy accept;",
                "iifname vmap @in_ports",
                "oifname vmap @out_ports",
            ]
        } else {
            &[
                "type filter hook forward priority 0; policy accept;",
                "meta mark == 0 return",
                "ct state established,related accept",
                "ct state invalid drop",
                "meta mark & 0xffff0000 vmap @from_marks",
                "meta mark & 0x0000ffff vmap @to_marks",
            ]
        };
        let base: Vec<String> = base.iter().map(|r| (*r).to_owned()).collect();
        chain_block(&mut out, hook, &base);
        let _ = writeln!(out, "}}");
    }
    Ok((out, idx))
}
