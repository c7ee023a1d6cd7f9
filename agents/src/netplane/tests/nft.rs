//! The security-group ruleset: what it says, and that the kernel takes it
//! (loaded twice into a network namespace of the test's own).

use std::process::Command;

use virga_protocol::network::{
    AddressPair, Direction, Ethertype, FilterRule, NodeNetwork, PortFilter, RemoteGroup,
};

use super::super::nft::{Indexes, RulesetError, ruleset, ruleset_with};
use super::super::nft_check::holds;
use super::super::nft_delta::changes;
use super::{Netns, connects, ip, pings};

fn rule(
    direction: Direction,
    protocol: Option<u8>,
    ports: (Option<u16>, Option<u16>),
    remote: Option<Vec<&str>>,
) -> FilterRule {
    FilterRule {
        direction,
        ethertype: Ethertype::IPv4,
        protocol,
        port_min: ports.0,
        port_max: ports.1,
        any_remote: remote.is_none(),
        remote_group: None,
        remote_prefixes: remote
            .unwrap_or_default()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    }
}

/// A plan of these ports and remote groups (id, members).
fn plan(ports: Vec<PortFilter>, groups: &[(&str, &[&str])]) -> NodeNetwork {
    NodeNetwork {
        ports,
        groups: groups
            .iter()
            .map(|(g, members)| RemoteGroup {
                group_id: (*g).into(),
                addresses: members.iter().map(|a| a.parse().unwrap()).collect(),
            })
            .collect(),
        ..NodeNetwork::default()
    }
}

fn web_port() -> PortFilter {
    PortFilter {
        port_id: "5f0c6c4e-7a0e-4b4e-9a59-6f1c2d3e4f50".into(),
        device: "tap5f0c6c4e-7a".into(),
        network_id: String::new(),
        mac: "fa:16:3e:12:34:56".into(),
        fixed_ips: vec!["10.0.0.5".parse().unwrap(), "fd00::5".parse().unwrap()],
        allowed_address_pairs: vec![AddressPair {
            ip: "10.0.0.100/32".into(),
            mac: "fa:16:3e:00:00:99".into(),
        }],
        port_security: true,
        rules: vec![
            rule(Direction::Egress, None, (None, None), None),
            rule(
                Direction::Ingress,
                Some(6),
                (Some(80), Some(80)),
                Some(vec!["10.0.0.0/24"]),
            ),
            rule(Direction::Ingress, Some(6), (Some(8000), Some(8080)), None),
            rule(Direction::Ingress, Some(1), (Some(8), Some(0)), None),
            // A remote group with no members admits nobody.
            rule(
                Direction::Ingress,
                Some(17),
                (Some(53), Some(53)),
                Some(vec![]),
            ),
            FilterRule {
                ethertype: Ethertype::IPv6,
                ..rule(Direction::Ingress, Some(58), (None, None), None)
            },
        ],
    }
}

#[test]
fn a_port_gets_anti_spoofing_and_its_rules() {
    let r = ruleset(&plan(vec![web_port()], &[])).unwrap();
    let id = "5f0c6c4e_7a0e_4b4e_9a59_6f1c2d3e4f50";
    for want in [
        "meta mark set meta mark & 0x0000ffff | 0x00010000".to_owned(),
        "meta mark set meta mark & 0xffff0000 | 0x00000001".into(),
        format!("\"tap5f0c6c4e-7a\" : jump in_{id}"),
        format!("\"tap5f0c6c4e-7a\" : jump out_{id}"),
        format!("0x00010000 : jump from_{id}"),
        format!("0x00000001 : jump to_{id}"),
        "ether saddr != { fa:16:3e:12:34:56, fa:16:3e:00:00:99 } drop".into(),
        "ether type ip ip saddr != { 10.0.0.5, 10.0.0.100/32 } drop".into(),
        "ether type ip6 ip6 saddr != { ::, fe80::f816:3eff:fe12:3456, fd00::5 } drop".into(),
        "meta nfproto ipv4 ip saddr { 10.0.0.0/24 } meta l4proto 6 th dport 80 accept".into(),
        "meta nfproto ipv4 meta l4proto 6 th dport 8000-8080 accept".into(),
        "meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0 accept".into(),
        "meta nfproto ipv6 meta l4proto 58 accept".into(),
        "ct state established,related accept".into(),
    ] {
        assert!(r.contains(&want), "missing {want:?} in\n{r}");
    }
    assert!(
        !r.contains("th dport 53"),
        "an empty remote group admits nobody:\n{r}"
    );
    // Egress rules return from the from-chain (the receiver decides).
    let from_chain = &r
        [r.find(&format!("chain from_{id}")).unwrap()..r.find(&format!("chain to_{id}")).unwrap()];
    assert!(
        from_chain.contains("meta nfproto ipv4 return"),
        "{from_chain}"
    );
    assert!(!from_chain.contains("th dport 80"));
}

#[test]
fn a_port_without_port_security_is_not_filtered() {
    let mut p = web_port();
    p.port_security = false;
    let r = ruleset(&plan(vec![p], &[])).unwrap();
    assert!(!r.contains("jump"), "{r}");
    assert!(r.contains("policy accept"));
}

#[test]
fn a_bad_device_name_is_refused() {
    let mut p = web_port();
    p.device = "tap\"; flush ruleset".into();
    assert_eq!(
        ruleset(&plan(vec![p.clone()], &[])),
        Err(RulesetError::BadDevice {
            port_id: p.port_id.clone(),
            device: p.device.clone()
        })
    );
}

#[test]
fn the_kernel_takes_the_ruleset_and_a_second_apply_changes_nothing() {
    let ns = Netns::new("nft");
    let mut other = web_port();
    other.port_id = "0a1b2c3d-0000-4000-8000-000000000001".into();
    other.device = "tap0a1b2c3d-00".into();
    other.fixed_ips = vec!["10.0.0.6".parse().unwrap()];
    other.allowed_address_pairs.clear();
    let r = ruleset(&plan(vec![web_port(), other], &[])).unwrap();
    ns.nft(&["-f", "-"], Some(&r));
    let first = ns.nft(&["list", "ruleset"], None);
    ns.nft(&["-f", "-"], Some(&r));
    let second = ns.nft(&["list", "ruleset"], None);
    assert_eq!(first, second);
    assert!(
        first.contains("chain from_5f0c6c4e_7a0e_4b4e_9a59_6f1c2d3e4f50"),
        "{first}"
    );
    assert!(
        first.contains("chain to_0a1b2c3d_0000_4000_8000_000000000001"),
        "{first}"
    );
    // With no ports left, the table is empty of port chains.
    ns.nft(&["-f", "-"], Some(&ruleset(&plan(vec![], &[])).unwrap()));
    let empty = ns.nft(&["list", "ruleset"], None);
    assert!(
        !empty.contains("chain from_") && !empty.contains("chain in_"),
        "{empty}"
    );
}

/// What the kernel holds, comparable whatever order it was written in:
/// the listing's words, sorted (set elements come in hash order).
fn words(ns: &Netns) -> Vec<String> {
    let listing = ns.nft(&["list", "ruleset"], None);
    let mut w: Vec<String> = listing
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    w.sort();
    w
}

/// Asserts `ns` holds what the whole ruleset of `p` with `idx` holds.
fn holds_whole(ns: &Netns, p: &NodeNetwork, idx: &Indexes) {
    let fresh = Netns::new("nftw");
    let (whole, _) = ruleset_with(p, idx).unwrap();
    fresh.nft(&["-f", "-"], Some(&whole));
    assert_eq!(
        words(ns),
        words(&fresh),
        "delta:\n{}\nwhole:\n{}",
        ns.nft(&["list", "ruleset"], None),
        fresh.nft(&["list", "ruleset"], None)
    );
}

/// Changes go through the maps and sets: a port gone, one changed and one
/// new, the untouched one keeps its index, a group's set gains and loses
/// members, a group no rule admits any more loses its set; the kernel ends
/// up with what a whole ruleset of the new plan (same indexes) would hold.
/// A guest joining a group changes that group's set and nothing else.
#[test]
fn the_kernel_takes_changes_and_they_match_a_whole_ruleset() {
    let ns = Netns::new("nftd");
    let port = |id: &str, dev: &str, ip: &str, group: &str| {
        let mut p = web_port();
        p.port_id = id.into();
        p.device = dev.into();
        p.fixed_ips = vec![ip.parse().unwrap()];
        p.allowed_address_pairs.clear();
        for ethertype in [Ethertype::IPv4, Ethertype::IPv6] {
            p.rules.push(FilterRule {
                ethertype,
                any_remote: false,
                remote_group: Some(group.into()),
                ..rule(Direction::Ingress, Some(6), (Some(22), Some(22)), None)
            });
        }
        p
    };
    let (a, b, c) = (
        port(
            "aaaaaaaa-0000-4000-8000-000000000001",
            "tapa",
            "10.0.0.1",
            "g0",
        ),
        port(
            "bbbbbbbb-0000-4000-8000-000000000002",
            "tapb",
            "10.0.0.2",
            "g1",
        ),
        port(
            "cccccccc-0000-4000-8000-000000000003",
            "tapc",
            "10.0.0.3",
            "g1",
        ),
    );
    let before = plan(
        vec![a.clone(), b.clone()],
        &[("g0", &["10.0.0.1"]), ("g1", &["10.0.0.1", "10.0.0.2"])],
    );
    let (full, idx) = ruleset_with(&before, &Indexes::new()).unwrap();
    assert!(
        full.contains("ip saddr @g4_g1 meta l4proto 6 th dport 22 accept")
            && full.contains("ip6 saddr @g6_g1 meta l4proto 6 th dport 22 accept")
            && full.contains("set g4_g1 { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 }; }"),
        "{full}"
    );
    ns.nft(&["-f", "-"], Some(&full));
    // b changes (a rule less), a goes, c comes; g0 goes, g1 changes.
    let mut b2 = b.clone();
    b2.rules.remove(0);
    let after = plan(
        vec![b2.clone(), c.clone()],
        &[("g1", &["10.0.0.2", "10.0.0.3", "fd00::3"])],
    );
    let (delta, idx2) = changes(&before, &after, &idx).unwrap();
    assert!(!delta.contains("table"), "no table is replaced:\n{delta}");
    assert_eq!(idx2[&b.port_id], idx[&b.port_id], "b keeps its index");
    assert_eq!(idx2[&c.port_id], idx[&a.port_id], "c takes the free one");
    ns.nft(&["-f", "-"], Some(&delta));
    let listing = ns.nft(&["list", "ruleset"], None);
    assert!(!listing.contains("chain in_aaaaaaaa"), "{listing}");
    assert!(listing.contains("chain in_cccccccc"), "{listing}");
    assert!(!listing.contains("g4_g0"), "{listing}");
    holds_whole(&ns, &after, &idx2);

    // One more member: one element, no chain.
    let mut joined = after.clone();
    joined.groups[0].addresses.push("10.0.0.4".parse().unwrap());
    let (delta, idx3) = changes(&after, &joined, &idx2).unwrap();
    assert_eq!(delta, "add element inet virga g4_g1 { 10.0.0.4 }\n");
    ns.nft(&["-f", "-"], Some(&delta));
    holds_whole(&ns, &joined, &idx3);

    // Nothing changed: nothing to do.
    let (none, _) = changes(&joined, &joined, &idx3).unwrap();
    assert!(none.is_empty(), "{none}");
}

/// Two guests (namespaces) on a bridge in a third, standing for a node:
/// the ruleset lets B (a member of the group A admits) reach A's port 80
/// and anyone ping A, nothing else in; replies pass; a guest sending from an address that is not its own is dropped. All
/// addresses are TEST-NET-1, inside the test's namespaces.
#[test]
fn security_groups_filter_traffic_between_guests_on_a_bridge() {
    let node = Netns::new("node");
    let a = Netns::new("ga");
    let b = Netns::new("gb");
    ip(&["-n", &node.0, "link", "add", "br0", "type", "bridge"]);
    ip(&["-n", &node.0, "link", "set", "br0", "up"]);
    for (guest, tap, addr) in [(&a, "tapa", "192.0.2.1/24"), (&b, "tapb", "192.0.2.2/24")] {
        ip(&[
            "link", "add", "eth0", "netns", &guest.0, "type", "veth", "peer", "name", tap, "netns",
            &node.0,
        ]);
        ip(&["-n", &node.0, "link", "set", tap, "master", "br0"]);
        ip(&["-n", &node.0, "link", "set", tap, "up"]);
        ip(&["-n", &guest.0, "addr", "add", addr, "dev", "eth0"]);
        ip(&["-n", &guest.0, "link", "set", "eth0", "up"]);
        ip(&["-n", &guest.0, "link", "set", "lo", "up"]);
    }
    let mac = |ns: &Netns| {
        let out = Command::new("ip")
            .args(["-n", &ns.0, "-br", "link", "show", "eth0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(2)
            .unwrap()
            .to_owned()
    };
    let status = Command::new("ip")
        .args([
            "netns",
            "exec",
            &node.0,
            "sysctl",
            "-q",
            "-w",
            "net.bridge.bridge-nf-call-iptables=1",
        ])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "br_netfilter is needed for stateful filtering"
    );
    let egress = rule(Direction::Egress, None, (None, None), None);
    let guest_a = PortFilter {
        port_id: "aaaaaaaa-0000-4000-8000-000000000001".into(),
        device: "tapa".into(),
        network_id: String::new(),
        mac: mac(&a),
        fixed_ips: vec!["192.0.2.1".parse().unwrap()],
        allowed_address_pairs: vec![],
        port_security: true,
        rules: vec![
            egress.clone(),
            // Port 80 from members of B's group (the set holds B).
            FilterRule {
                any_remote: false,
                remote_group: Some("clients".into()),
                ..rule(Direction::Ingress, Some(6), (Some(80), Some(80)), None)
            },
            // Echo requests (type 8) from anywhere.
            rule(Direction::Ingress, Some(1), (Some(8), None), None),
        ],
    };
    let guest_b = PortFilter {
        port_id: "bbbbbbbb-0000-4000-8000-000000000002".into(),
        device: "tapb".into(),
        network_id: String::new(),
        mac: mac(&b),
        fixed_ips: vec!["192.0.2.2".parse().unwrap()],
        allowed_address_pairs: vec![],
        port_security: true,
        rules: vec![egress],
    };
    let filter = plan(vec![guest_a, guest_b], &[("clients", &["192.0.2.2"])]);
    node.nft(&["-f", "-"], Some(&ruleset(&filter).unwrap()));
    // Listeners on 80 and 81 in both guests, for as long as the test runs.
    let mut servers = [super::serve(&a), super::serve(&b)];
    assert!(
        connects(&b, "192.0.2.2", "192.0.2.1", 80),
        "B may reach A's port 80"
    );
    assert!(
        !connects(&b, "192.0.2.2", "192.0.2.1", 81),
        "nothing opens A's port 81"
    );
    assert!(
        !connects(&a, "192.0.2.1", "192.0.2.2", 80),
        "B admits nothing in"
    );
    assert!(pings(&b, "192.0.2.1"), "A answers echo requests");
    assert!(!pings(&a, "192.0.2.2"), "B admits no echo requests");
    // B borrows an address that is not its own: dropped before A.
    ip(&["-n", &b.0, "addr", "add", "192.0.2.99/24", "dev", "eth0"]);
    assert!(
        !connects(&b, "192.0.2.99", "192.0.2.1", 80),
        "a spoofed source is dropped"
    );
    for s in &mut servers {
        let _ = s.kill();
        let _ = s.wait();
    }
}

/// The tick's cheap check: it sees the filter it wrote (whole, or changed
/// through the maps and sets) as intact, and sees a map element, a set
/// element or the whole table gone.
#[test]
fn the_drift_check_sees_what_was_written_and_what_was_removed() {
    let ns = Netns::new("nftc");
    let host = super::super::Host {
        netns: Some(ns.0.clone()),
        ns_prefix: format!("{}-", ns.0),
        physical: Default::default(),
        tunnel_ip: None,
        state_dir: std::env::temp_dir(),
    };
    let group_rule = FilterRule {
        ethertype: Ethertype::IPv6,
        any_remote: false,
        remote_group: Some("g1".into()),
        ..rule(Direction::Ingress, None, (None, None), None)
    };
    let mut a = web_port();
    a.rules.push(group_rule);
    let p = plan(vec![a.clone()], &[("g1", &["10.0.0.5", "fd00::5"])]);
    assert!(!holds(&host, &p, &Indexes::new()), "nothing written yet");
    let (whole, idx) = ruleset_with(&p, &Indexes::new()).unwrap();
    ns.nft(&["-f", "-"], Some(&whole));
    assert!(
        holds(&host, &p, &idx),
        "what was written whole: {:?}\n{:?}",
        super::super::nft_check::expected(&p, &idx),
        super::super::nft_check::held(&host)
    );

    let mut b = a.clone();
    b.port_id = "0b0b0b0b-0000-4000-8000-000000000002".into();
    b.device = "tapb".into();
    let p2 = plan(vec![a, b], &[("g1", &["fd00::5", "fd00::6"])]);
    assert!(!holds(&host, &p2, &idx), "a new port is not there yet");
    let (delta, idx2) = changes(&p, &p2, &idx).unwrap();
    ns.nft(&["-f", "-"], Some(&delta));
    assert!(holds(&host, &p2, &idx2), "what was changed");

    ns.nft(
        &["delete", "element", "inet", "virga", "g6_g1", "{ fd00::6 }"],
        None,
    );
    assert!(!holds(&host, &p2, &idx2), "a member gone");
    ns.nft(
        &["add", "element", "inet", "virga", "g6_g1", "{ fd00::6 }"],
        None,
    );
    assert!(holds(&host, &p2, &idx2));
    ns.nft(
        &[
            "delete",
            "element",
            "bridge",
            "virga",
            "in_ports",
            "{ \"tapb\" }",
        ],
        None,
    );
    assert!(!holds(&host, &p2, &idx2), "a port's map element gone");
    ns.nft(&["flush", "ruleset"], None);
    assert!(!holds(&host, &p2, &idx2), "the tables gone");
}
