//! Plans from a hand-made snapshot: what each node carries, VXLAN peers,
//! DHCP hosts, filters with remote groups, and where routers run.

use std::collections::HashMap;

use virga_protocol::network::{Advertised, Direction, Ipv6Mode, Segment};

use super::build::{DHCP_OWNER, plans};
use super::snapshot::{Node, Snapshot};
use crate::db::{floating_ip, network, now, port, router, security_group_rule, subnet};

fn net(id: &str, kind: &str, physical: &str, seg: i32) -> network::Model {
    network::Model {
        id: id.into(),
        project_id: "p".into(),
        name: id.into(),
        description: String::new(),
        created_at: now(),
        updated_at: now(),
        revision_number: 0,
        admin_state_up: true,
        status: "ACTIVE".into(),
        shared: false,
        external: kind == "flat",
        mtu: if kind == "vxlan" { 1450 } else { 1500 },
        port_security_enabled: true,
        network_type: kind.into(),
        physical_network: physical.into(),
        segmentation_id: seg,
    }
}

fn sub(id: &str, net: &str, cidr: &str, gw: &str) -> subnet::Model {
    subnet::Model {
        id: id.into(),
        project_id: "p".into(),
        name: String::new(),
        description: String::new(),
        created_at: now(),
        updated_at: now(),
        revision_number: 0,
        network_id: net.into(),
        ip_version: 4,
        cidr: cidr.into(),
        gateway_ip: Some(gw.into()),
        enable_dhcp: true,
        ipv6_ra_mode: None,
        ipv6_address_mode: None,
        allocation_pools: "[]".into(),
        dns_nameservers: "[\"192.0.2.53\"]".into(),
        host_routes: "[]".into(),
    }
}

fn port(id: &str, net: &str, owner: &str, host: &str) -> port::Model {
    port::Model {
        id: id.into(),
        project_id: "p".into(),
        name: String::new(),
        description: String::new(),
        created_at: now(),
        updated_at: now(),
        revision_number: 0,
        network_id: net.into(),
        mac_address: format!("fa:16:3e:00:00:{}", &id[id.len() - 2..]),
        admin_state_up: true,
        status: "DOWN".into(),
        device_id: String::new(),
        device_owner: owner.into(),
        port_security_enabled: true,
        binding_host_id: host.into(),
        binding_vnic_type: "normal".into(),
        binding_profile: "{}".into(),
        allowed_address_pairs: "[]".into(),
    }
}

fn node(id: &str, tunnel: &str, physical: &[&str]) -> Node {
    Node {
        node_id: id.into(),
        tunnel_ip: Some(tunnel.into()),
        physical_networks: physical.iter().map(|p| p.to_string()).collect(),
    }
}

/// Tenant network `t` (VXLAN 77) with guests on nodes n1 and n2 (and an
/// unbound port), n1's DHCP port; external `ext` (flat on `public`, which
/// only n2 has); router `r` with a floating IP for guest g1.
fn snapshot() -> Snapshot {
    let ports = vec![
        port("g1-port-0001", "t", "compute:nova", "n1"),
        port("g2-port-0002", "t", "compute:nova", "n2"),
        port("g3-port-0003", "t", "compute:nova", ""),
        port("dh-port-0004", "t", DHCP_OWNER, "n1"),
        port("ri-port-0005", "t", router::INTERFACE, ""),
        port("rg-port-0006", "ext", router::GATEWAY, ""),
    ];
    let ips = [
        ("g1-port-0001", "s", "10.0.0.11"),
        ("g2-port-0002", "s", "10.0.0.12"),
        ("g3-port-0003", "s", "10.0.0.13"),
        ("dh-port-0004", "s", "10.0.0.2"),
        ("ri-port-0005", "s", "10.0.0.1"),
        ("rg-port-0006", "se", "203.0.113.10"),
    ]
    .into_iter()
    .map(|(p, s, ip)| (p.to_owned(), vec![(s.to_owned(), ip.to_owned())]))
    .collect();
    let rule = security_group_rule::Model {
        id: "rule".into(),
        project_id: "p".into(),
        security_group_id: "web".into(),
        direction: "ingress".into(),
        ethertype: "IPv4".into(),
        protocol: Some("tcp".into()),
        port_range_min: Some(80),
        port_range_max: Some(80),
        remote_ip_prefix: None,
        remote_group_id: Some("web".into()),
        description: String::new(),
        created_at: now(),
        updated_at: now(),
        revision_number: 0,
    };
    let r = router::Model {
        id: "r".into(),
        project_id: "p".into(),
        name: String::new(),
        description: String::new(),
        created_at: now(),
        updated_at: now(),
        revision_number: 0,
        admin_state_up: true,
        status: "ACTIVE".into(),
        gateway_network_id: Some("ext".into()),
        enable_snat: true,
    };
    let fip = floating_ip::Model {
        id: "f".into(),
        project_id: "p".into(),
        description: String::new(),
        created_at: now(),
        updated_at: now(),
        revision_number: 0,
        floating_network_id: "ext".into(),
        floating_port_id: "fp".into(),
        floating_ip_address: "203.0.113.20".into(),
        port_id: Some("g1-port-0001".into()),
        fixed_ip_address: Some("10.0.0.11".into()),
        router_id: Some("r".into()),
        status: "ACTIVE".into(),
    };
    Snapshot {
        nodes: vec![
            node("n1", "198.51.100.1", &[]),
            node("n2", "198.51.100.2", &["public"]),
            node("n3", "198.51.100.3", &[]),
        ],
        networks: [net("t", "vxlan", "", 77), net("ext", "flat", "public", 0)]
            .into_iter()
            .map(|n| (n.id.clone(), n))
            .collect(),
        subnets: [
            sub("s", "t", "10.0.0.0/24", "10.0.0.1"),
            sub("se", "ext", "203.0.113.0/24", "203.0.113.254"),
        ]
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect(),
        ports,
        ips,
        port_groups: HashMap::from([
            ("g1-port-0001".into(), vec!["web".into()]),
            ("g2-port-0002".into(), vec!["web".into()]),
            ("g3-port-0003".into(), vec!["web".into()]),
        ]),
        rules: HashMap::from([("web".into(), vec![rule])]),
        routers: vec![r],
        router_ports: HashMap::from([
            (
                "ri-port-0005".into(),
                ("r".into(), router::INTERFACE.into()),
            ),
            ("rg-port-0006".into(), ("r".into(), router::GATEWAY.into())),
        ]),
        floating_ips: vec![fip],
    }
}

#[test]
fn nodes_carry_their_guests_networks_and_peer_over_vxlan() {
    let p = plans(&snapshot());
    let n1 = &p["n1"];
    assert_eq!(n1.networks.len(), 1);
    assert_eq!(
        n1.networks[0].segment,
        Segment::Vxlan {
            vni: 77,
            peers: vec!["198.51.100.2".parse().unwrap()]
        },
        "n2 carries t too (a guest and the router); n3 does not"
    );
    assert_eq!(n1.networks[0].mtu, 1450);
    let dhcp = n1.networks[0].dhcp.as_ref().expect("n1 serves its guests");
    assert_eq!(dhcp.subnets[0].address.to_string(), "10.0.0.2");
    assert_eq!(dhcp.subnets[0].dns_nameservers[0].to_string(), "192.0.2.53");
    let hosts: Vec<String> = dhcp.hosts.iter().map(|h| h.ips[0].to_string()).collect();
    assert_eq!(hosts, ["10.0.0.11"], "only the node's own guests");
    assert!(p["n3"].networks.is_empty() && p["n3"].ports.is_empty());

    let f = &n1.ports[0];
    assert_eq!(f.device, "tapg1-port-000");
    assert_eq!(f.fixed_ips[0].to_string(), "10.0.0.11");
    let rule = &f.rules[0];
    assert_eq!(rule.direction, Direction::Ingress);
    assert_eq!((rule.protocol, rule.port_min), (Some(6), Some(80)));
    assert!(!rule.any_remote && rule.remote_prefixes.is_empty());
    let group = rule
        .remote_group
        .as_deref()
        .expect("the rule names its group");
    assert_eq!(n1.groups.len(), 1, "only the groups the node's rules admit");
    assert_eq!(n1.groups[0].group_id, group);
    let members: Vec<String> = n1.groups[0]
        .addresses
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(
        members,
        ["10.0.0.11", "10.0.0.12", "10.0.0.13"],
        "the plan carries the group's members, from every node"
    );
}

#[test]
fn a_router_runs_where_its_external_network_is() {
    let p = plans(&snapshot());
    assert!(p["n1"].routers.is_empty());
    let n2 = &p["n2"];
    let r = &n2.routers[0];
    let g = r.gateway.as_ref().unwrap();
    assert_eq!(g.leg.addresses, ["203.0.113.10/24"]);
    assert_eq!(g.next_hops[0].to_string(), "203.0.113.254");
    assert!(g.snat);
    assert_eq!(r.interfaces[0].addresses, ["10.0.0.1/24"]);
    assert_eq!(r.floating_ips[0].floating_ip.to_string(), "203.0.113.20");
    let nets: Vec<&str> = n2.networks.iter().map(|n| n.network_id.as_str()).collect();
    assert_eq!(nets, ["ext", "t"], "the router's legs' networks come along");
    assert!(
        n2.networks.iter().all(|n| n.dhcp.is_none()),
        "n2 has no DHCP port yet (the sync makes one)"
    );

    // Without a node on the external network the router runs nowhere.
    let mut s = snapshot();
    s.nodes[1].physical_networks.clear();
    assert!(plans(&s).values().all(|p| p.routers.is_empty()));
}

#[test]
fn a_router_advertises_itself_on_its_ipv6_interfaces() {
    let mut s = snapshot();
    let mut v6 = sub("s6", "t", "2001:db8::/64", "2001:db8::1");
    v6.ip_version = 6;
    v6.ipv6_ra_mode = Some("slaac".into());
    v6.dns_nameservers = "[\"2001:db8:53::1\"]".into();
    s.subnets.insert("s6".into(), v6);
    s.ips
        .get_mut("ri-port-0005")
        .unwrap()
        .push(("s6".into(), "2001:db8::1".into()));
    let p = plans(&s);
    let r = &p["n2"].routers[0];
    assert_eq!(r.interfaces[0].addresses, ["10.0.0.1/24", "2001:db8::1/64"]);
    assert_eq!(
        r.interfaces[0].advertise,
        [Advertised {
            cidr: "2001:db8::/64".into(),
            mode: Some(Ipv6Mode::Slaac),
            dns_nameservers: vec!["2001:db8:53::1".parse().unwrap()],
        }],
        "the IPv6 subnet only"
    );
    assert!(r.gateway.as_ref().unwrap().leg.advertise.is_empty());
}
