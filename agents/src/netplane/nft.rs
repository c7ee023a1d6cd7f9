//! Security groups as nftables, for ports on Linux bridges.
//!
//! Conntrack is not available to the `bridge` family on every kernel
//! (`nf_conntrack_bridge`), so filtering takes two tables, replaced
//! together in one nftables transaction (applying the same state twice
//! changes nothing; a node never runs half a ruleset):
//!
//! - `bridge virga`, before bridging: marks each frame with the index of
//!   the Virga port it comes from (high 16 bits of the packet mark) and
//!   goes to (low 16 bits), and checks what leaves a guest statelessly:
//!   its MACs, its addresses (ARP, IPv4, IPv6), no DHCP server or router
//!   advertisements of its own.
//! - `inet virga`, on the bridged IP traffic br_netfilter hands to the IP
//!   hooks (`net.bridge.bridge-nf-call-ip{,6}tables=1` in the bridge's
//!   namespace): stateful. Replies to allowed traffic pass; new traffic
//!   passes the sender's egress rules (`from_<port>`, which return when
//!   they allow) and the receiver's ingress rules (`to_<port>`); what no
//!   rule allows is dropped.

use std::fmt::Write;
use std::net::{IpAddr, Ipv6Addr};

use virga_protocol::network::{Direction, Ethertype, FilterRule, PortFilter};

pub const TABLE: &str = "virga";

/// A chain name for a port: its id with what nft identifiers may not hold
/// replaced.
fn chain(prefix: &str, port_id: &str) -> String {
    let id: String = port_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{id}")
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

fn set(items: &[String]) -> String {
    format!("{{ {} }}", items.join(", "))
}

/// One security group rule as an nftables rule ending in `verdict`;
/// `None` when it admits nobody (a remote group without members).
fn rule(r: &FilterRule, verdict: &str) -> Option<String> {
    let l3 = match r.ethertype {
        Ethertype::IPv4 => "ip",
        Ethertype::IPv6 => "ip6",
    };
    let mut out = format!("meta nfproto {}", if l3 == "ip" { "ipv4" } else { "ipv6" });
    if !r.any_remote {
        if r.remote_prefixes.is_empty() {
            return None;
        }
        let side = match r.direction {
            Direction::Ingress => "saddr",
            Direction::Egress => "daddr",
        };
        write!(out, " {l3} {side} {}", set(&r.remote_prefixes)).ok()?;
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

/// What one filtered port adds to each table.
struct PortRules {
    marks: Vec<String>,
    spoof: String,
    dispatch: Vec<String>,
    chains: String,
}

fn port(p: &PortFilter, index: u32) -> Option<PortRules> {
    let dev = device(&p.device)?;
    let from = chain("from", &p.port_id);
    let to = chain("to", &p.port_id);
    let spoof = chain("spoof", &p.port_id);
    let high = index << 16;
    let marks = vec![
        format!("iifname {dev} meta mark set meta mark & 0x0000ffff | {high:#010x}"),
        format!("oifname {dev} meta mark set meta mark & 0xffff0000 | {index:#010x}"),
        format!("iifname {dev} jump {spoof}"),
    ];
    let dispatch = vec![
        format!("meta mark & 0xffff0000 == {high:#010x} jump {from}"),
        format!("meta mark & 0x0000ffff == {index:#010x} jump {to}"),
    ];
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
    // Stateless checks of what leaves the guest.
    let mut s = String::new();
    writeln!(s, "    chain {spoof} {{").ok()?;
    writeln!(s, "        ether saddr != {} drop", set(&macs)).ok()?;
    let mut arp_ok = v4.clone();
    arp_ok.push("0.0.0.0".into());
    writeln!(
        s,
        "        ether type arp arp saddr ip != {} drop",
        set(&arp_ok)
    )
    .ok()?;
    writeln!(
        s,
        "        ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 return"
    )
    .ok()?;
    if v4.is_empty() {
        writeln!(s, "        ether type ip drop").ok()?;
    } else {
        writeln!(s, "        ether type ip ip saddr != {} drop", set(&v4)).ok()?;
    }
    writeln!(s, "        ether type ip6 ip6 saddr != {} drop", set(&v6)).ok()?;
    writeln!(
        s,
        "        ether type ip6 icmpv6 type {{ nd-router-advert, nd-redirect }} drop"
    )
    .ok()?;
    writeln!(s, "        ether type ip udp sport 67 drop").ok()?;
    writeln!(s, "        ether type ip6 udp sport 547 drop").ok()?;
    writeln!(s, "    }}").ok()?;
    // Stateful: egress rules return (the receiver decides next), ingress
    // rules accept.
    let mut c = String::new();
    writeln!(c, "    chain {from} {{").ok()?;
    writeln!(
        c,
        "        meta nfproto ipv4 udp sport 68 udp dport 67 return"
    )
    .ok()?;
    writeln!(c, "        meta nfproto ipv6 meta l4proto 58 icmpv6 type {{ nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report }} return").ok()?;
    for r in p.rules.iter().filter(|r| r.direction == Direction::Egress) {
        if let Some(line) = rule(r, "return") {
            writeln!(c, "        {line}").ok()?;
        }
    }
    writeln!(c, "        drop").ok()?;
    writeln!(c, "    }}").ok()?;
    writeln!(c, "    chain {to} {{").ok()?;
    writeln!(
        c,
        "        meta nfproto ipv4 udp sport 67 udp dport 68 accept"
    )
    .ok()?;
    writeln!(
        c,
        "        meta nfproto ipv6 udp sport 547 udp dport 546 accept"
    )
    .ok()?;
    writeln!(c, "        meta nfproto ipv6 meta l4proto 58 icmpv6 type {{ nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query }} accept").ok()?;
    for r in p.rules.iter().filter(|r| r.direction == Direction::Ingress) {
        if let Some(line) = rule(r, "accept") {
            writeln!(c, "        {line}").ok()?;
        }
    }
    writeln!(c, "        drop").ok()?;
    writeln!(c, "    }}").ok()?;
    Some(PortRules {
        marks,
        spoof: s,
        dispatch,
        chains: c,
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

/// Both tables for these ports, as one `nft -f` input that replaces
/// whatever a previous run left. Ports without port security are not
/// filtered at all.
pub fn ruleset(ports: &[PortFilter]) -> Result<String, RulesetError> {
    let mut filtered: Vec<&PortFilter> = ports.iter().filter(|p| p.port_security).collect();
    filtered.sort_by(|a, b| a.port_id.cmp(&b.port_id));
    if filtered.len() > 0xffff {
        return Err(RulesetError::TooManyPorts);
    }
    let mut parts = Vec::new();
    for (i, p) in filtered.iter().enumerate() {
        parts.push(
            port(p, i as u32 + 1).ok_or_else(|| RulesetError::BadDevice {
                port_id: p.port_id.clone(),
                device: p.device.clone(),
            })?,
        );
    }
    let mut out = String::new();
    // Declare, delete, define: one transaction whether or not they existed.
    for family in ["bridge", "inet"] {
        let _ = writeln!(out, "table {family} {TABLE}");
        let _ = writeln!(out, "delete table {family} {TABLE}");
    }
    let _ = writeln!(out, "table bridge {TABLE} {{");
    for p in &parts {
        out.push_str(&p.spoof);
    }
    let _ = writeln!(out, "    chain ports {{");
    let _ = writeln!(
        out,
        "        type filter hook forward priority -300; policy accept;"
    );
    for p in &parts {
        for m in &p.marks {
            let _ = writeln!(out, "        {m}");
        }
    }
    let _ = writeln!(out, "    }}");
    let _ = writeln!(out, "}}");
    let _ = writeln!(out, "table inet {TABLE} {{");
    for p in &parts {
        out.push_str(&p.chains);
    }
    let _ = writeln!(out, "    chain forward {{");
    let _ = writeln!(
        out,
        "        type filter hook forward priority 0; policy accept;"
    );
    let _ = writeln!(out, "        meta mark == 0 return");
    let _ = writeln!(out, "        ct state established,related accept");
    let _ = writeln!(out, "        ct state invalid drop");
    for p in &parts {
        for d in &p.dispatch {
            let _ = writeln!(out, "        {d}");
        }
    }
    let _ = writeln!(out, "    }}");
    let _ = writeln!(out, "}}");
    Ok(out)
}
