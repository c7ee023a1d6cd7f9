//! The whole data plane on two "nodes" (namespaces joined by an underlay
//! veth) with "guests" (namespaces on veths) and an "outside world"
//! (a namespace on node 1's physical network): DHCP and SLAAC across
//! VXLAN, tenant isolation, a floating IP and SNAT, and applying again or
//! applying nothing. Addresses are documentation ranges, inside the
//! test's namespaces.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use virga_protocol::network::{
    Advertised, DhcpHost, DhcpPlan, DhcpSubnet, Direction, Ethertype, FilterRule, FloatingNat,
    Ipv6Mode, NetworkPlan, NodeNetwork, PortFilter, RouterGateway, RouterLeg, RouterPlan, Segment,
};

use super::super::{Host, apply};
use super::{Netns, connects, http_get, ip, pings, serve};

const TENANT: &str = "11111111-1111-4111-8111-111111111111";
const OTHER: &str = "22222222-2222-4222-8222-222222222222";
const PUBLIC: &str = "33333333-3333-4333-8333-333333333333";
const ROUTER: &str = "44444444-4444-4444-8444-444444444444";

fn slaac(mac: &str) -> IpAddr {
    let iid = virga_common::mac::eui64_interface_id(virga_common::mac::parse(mac).unwrap());
    IpAddr::V6(((0x2001_0db8u128 << 96) | iid as u128).into())
}

fn any(
    direction: Direction,
    ethertype: Ethertype,
    protocol: Option<u8>,
    port: Option<u16>,
) -> FilterRule {
    FilterRule {
        direction,
        ethertype,
        protocol,
        port_min: port,
        port_max: port,
        remote_prefixes: vec![],
        any_remote: true,
        remote_group: None,
    }
}

/// A guest's port: egress open, TCP 80 and echo requests in.
fn port(id: &str, device: &str, network: &str, mac: &str, ips: Vec<IpAddr>) -> PortFilter {
    let mut rules = Vec::new();
    for e in [Ethertype::IPv4, Ethertype::IPv6] {
        rules.push(any(Direction::Egress, e, None, None));
        rules.push(any(Direction::Ingress, e, Some(6), Some(80)));
    }
    rules.push(FilterRule {
        port_max: None,
        ..any(Direction::Ingress, Ethertype::IPv4, Some(1), Some(8))
    });
    PortFilter {
        port_id: id.into(),
        device: device.into(),
        network_id: network.into(),
        mac: mac.into(),
        fixed_ips: ips,
        allowed_address_pairs: vec![],
        port_security: true,
        rules,
    }
}

fn tenant_net(peer: &str, dhcp: Option<DhcpPlan>) -> NetworkPlan {
    NetworkPlan {
        network_id: TENANT.into(),
        segment: Segment::Vxlan {
            vni: 100,
            peers: vec![peer.parse().unwrap()],
        },
        mtu: 1450,
        dhcp,
    }
}

fn other_net(peer: &str) -> NetworkPlan {
    NetworkPlan {
        network_id: OTHER.into(),
        segment: Segment::Vxlan {
            vni: 200,
            peers: vec![peer.parse().unwrap()],
        },
        mtu: 1450,
        dhcp: None,
    }
}

/// A guest namespace on a veth whose node end is `tap` in `node`.
fn guest(tag: &str, node: &Netns, tap: &str, mac: &str) -> Netns {
    let g = Netns::new(tag);
    ip(&[
        "link", "add", "eth0", "netns", &g.0, "type", "veth", "peer", "name", tap, "netns", &node.0,
    ]);
    ip(&[
        "-n", &g.0, "link", "set", "eth0", "address", mac, "mtu", "1450",
    ]);
    ip(&["-n", &g.0, "link", "set", "lo", "up"]);
    g
}

/// Asks for an address by DHCP (busybox udhcpc) and configures what it
/// is given; true when a lease came.
fn dhcp_client(g: &Netns, dir: &Path, tries: u32) -> bool {
    let script = dir.join(format!("{}.sh", g.0));
    std::fs::write(
        &script,
        "#!/bin/sh\ncase \"$1\" in bound|renew)\n  ip addr add \"$ip/$mask\" dev \"$interface\"\n  [ -n \"$router\" ] && ip route replace default via \"${router%% *}\"\nesac\nexit 0\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    Command::new("ip")
        .args([
            "netns", "exec", &g.0, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-T", "1",
            "-s",
        ])
        .arg(&script)
        .args(["-t", &tries.to_string()])
        .status()
        .expect("busybox runs (scripts/test.sh installs it)")
        .success()
}

fn addresses(ns: &Netns) -> String {
    let out = Command::new("ip")
        .args(["-n", &ns.0, "addr", "show", "dev", "eth0"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn route6(ns: &Netns) -> String {
    let out = Command::new("ip")
        .args(["-n", &ns.0, "-6", "route", "show"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Applies an empty plan to each node when the test ends, passed or not:
/// the DHCP servers and the namespaces the agent made are machine-wide.
struct Teardown(Vec<Host>);

impl Drop for Teardown {
    fn drop(&mut self) {
        for h in &self.0 {
            let _ = apply(h, &NodeNetwork::default());
        }
    }
}

#[test]
fn guests_on_two_nodes_get_addresses_reach_each_other_and_the_outside() {
    let state = tempfile::tempdir().unwrap();
    let node1 = Netns::new("n1");
    let node2 = Netns::new("n2");
    let world = Netns::new("world");
    let prefix = format!("virga-t{}-", std::process::id());
    // The underlay between the nodes, and node 1's physical network.
    ip(&[
        "link", "add", "u1", "netns", &node1.0, "type", "veth", "peer", "name", "u2", "netns",
        &node2.0,
    ]);
    ip(&[
        "-n",
        &node1.0,
        "addr",
        "add",
        "198.51.100.1/24",
        "dev",
        "u1",
    ]);
    ip(&[
        "-n",
        &node2.0,
        "addr",
        "add",
        "198.51.100.2/24",
        "dev",
        "u2",
    ]);
    ip(&[
        "link", "add", "pub1", "netns", &node1.0, "type", "veth", "peer", "name", "eth0", "netns",
        &world.0,
    ]);
    ip(&[
        "-n",
        &world.0,
        "addr",
        "add",
        "203.0.113.254/24",
        "dev",
        "eth0",
    ]);
    ip(&[
        "-n",
        &world.0,
        "addr",
        "add",
        "2001:db8:ff::254/64",
        "dev",
        "eth0",
        "nodad",
    ]);
    for (ns, dev) in [(&node1, "u1"), (&node2, "u2"), (&world, "eth0")] {
        ip(&["-n", &ns.0, "link", "set", dev, "up"]);
        ip(&["-n", &ns.0, "link", "set", "lo", "up"]);
    }
    // The outside world routes the tenant's IPv6 prefix to the router.
    ip(&[
        "-n",
        &world.0,
        "-6",
        "route",
        "add",
        "2001:db8::/64",
        "via",
        "2001:db8:ff::10",
    ]);
    let host = |node: &Netns, tunnel: &str| Host {
        netns: Some(node.0.clone()),
        // Namespace names are machine-wide: each "node" has its own.
        ns_prefix: format!("{prefix}{}-", node.0),
        physical: BTreeMap::from([("public".into(), "pub1".into())]),
        tunnel_ip: Some(tunnel.parse().unwrap()),
        state_dir: state.path().join(&node.0),
    };
    let (h1, h2) = (host(&node1, "198.51.100.1"), host(&node2, "198.51.100.2"));
    let _teardown = Teardown(vec![h1.clone(), h2.clone()]);

    let (mac_a, mac_b, mac_c) = (
        "fa:16:3e:00:00:0a",
        "fa:16:3e:00:00:0b",
        "fa:16:3e:00:00:0c",
    );
    let a = guest("ga", &node1, "tapa", mac_a);
    let b = guest("gb", &node2, "tapb", mac_b);
    let c = guest("gc", &node2, "tapc", mac_c);
    let ip_a: Vec<IpAddr> = vec!["192.0.2.5".parse().unwrap(), slaac(mac_a)];
    let ip_b: Vec<IpAddr> = vec!["192.0.2.6".parse().unwrap(), slaac(mac_b)];
    let dhcp = DhcpPlan {
        port_id: "dddddddd-0000-4000-8000-000000000001".into(),
        mac: "fa:16:3e:00:00:d1".into(),
        subnets: vec![
            DhcpSubnet {
                subnet_id: "s4".into(),
                cidr: "192.0.2.0/24".into(),
                address: "192.0.2.2".parse().unwrap(),
                gateway: Some("192.0.2.1".parse().unwrap()),
                dns_nameservers: vec![],
                host_routes: vec![],
                ipv6_mode: None,
            },
            DhcpSubnet {
                subnet_id: "s6".into(),
                cidr: "2001:db8::/64".into(),
                address: "2001:db8::2".parse().unwrap(),
                gateway: None,
                dns_nameservers: vec![],
                host_routes: vec![],
                ipv6_mode: Some(Ipv6Mode::Slaac),
            },
        ],
        hosts: vec![
            DhcpHost {
                mac: mac_a.into(),
                ips: ip_a.clone(),
                hostname: Some("guest-a".into()),
            },
            DhcpHost {
                mac: mac_b.into(),
                ips: ip_b.clone(),
                hostname: None,
            },
        ],
    };
    let public = NetworkPlan {
        network_id: PUBLIC.into(),
        segment: Segment::Flat {
            physical_network: "public".into(),
        },
        mtu: 1500,
        dhcp: None,
    };
    let router = RouterPlan {
        router_id: ROUTER.into(),
        gateway: Some(RouterGateway {
            leg: RouterLeg {
                port_id: "e1e1e1e1-0000-4000-8000-000000000001".into(),
                network_id: PUBLIC.into(),
                mac: "fa:16:3e:00:00:e1".into(),
                addresses: vec!["203.0.113.10/24".into(), "2001:db8:ff::10/64".into()],
                advertise: vec![],
            },
            next_hops: vec![
                "203.0.113.254".parse().unwrap(),
                "2001:db8:ff::254".parse().unwrap(),
            ],
            snat: true,
        }),
        interfaces: vec![RouterLeg {
            port_id: "e2e2e2e2-0000-4000-8000-000000000002".into(),
            network_id: TENANT.into(),
            mac: "fa:16:3e:00:00:e2".into(),
            addresses: vec!["192.0.2.1/24".into(), "2001:db8::1/64".into()],
            // The router is the IPv6 subnet's default router.
            advertise: vec![Advertised {
                cidr: "2001:db8::/64".into(),
                mode: Some(Ipv6Mode::Slaac),
                dns_nameservers: vec![],
            }],
        }],
        floating_ips: vec![FloatingNat {
            floating_ip: "203.0.113.20".parse().unwrap(),
            fixed_ip: "192.0.2.5".parse().unwrap(),
        }],
    };
    let plan1 = NodeNetwork {
        networks: vec![tenant_net("198.51.100.2", Some(dhcp)), public],
        ports: vec![port(
            "aaaaaaaa-0000-4000-8000-00000000000a",
            "tapa",
            TENANT,
            mac_a,
            ip_a,
        )],
        routers: vec![router],
        groups: vec![],
    };
    let plan2 = NodeNetwork {
        networks: vec![tenant_net("198.51.100.1", None), other_net("198.51.100.1")],
        ports: vec![
            port(
                "bbbbbbbb-0000-4000-8000-00000000000b",
                "tapb",
                TENANT,
                mac_b,
                ip_b,
            ),
            port(
                "cccccccc-0000-4000-8000-00000000000c",
                "tapc",
                OTHER,
                mac_c,
                vec!["192.0.2.7".parse().unwrap()],
            ),
        ],
        routers: vec![],
        groups: vec![],
    };
    for (h, plan) in [(&h1, &plan1), (&h2, &plan2)] {
        let errors = apply(h, plan);
        assert!(errors.is_empty(), "{errors:?}");
    }
    for g in [&a, &b, &c] {
        ip(&["-n", &g.0, "link", "set", "eth0", "up"]);
    }
    let work = tempfile::tempdir().unwrap();
    assert!(
        dhcp_client(&a, work.path(), 8),
        "A gets a lease from its node's DHCP server"
    );
    assert!(dhcp_client(&b, work.path(), 8), "B gets one across VXLAN");
    assert!(
        addresses(&a).contains("inet 192.0.2.5/24"),
        "{}",
        addresses(&a)
    );
    assert!(
        addresses(&b).contains("inet 192.0.2.6/24"),
        "{}",
        addresses(&b)
    );
    assert!(
        !dhcp_client(&c, work.path(), 3),
        "the other tenant's network has no DHCP server, and none leaks in"
    );
    ip(&["-n", &c.0, "addr", "add", "192.0.2.7/24", "dev", "eth0"]);
    let v6_a = slaac(mac_a).to_string();
    let v6_b = slaac(mac_b).to_string();
    wait_for("SLAAC addresses", || {
        addresses(&a).contains(&format!("{v6_a}/64"))
            && addresses(&b).contains(&format!("{v6_b}/64"))
    });

    let mut servers = [serve(&a), serve(&world)];
    assert!(
        connects(&b, "192.0.2.6", "192.0.2.5", 80),
        "B reaches A across nodes"
    );
    assert!(pings(&b, "192.0.2.5"), "and pings it");
    wait_for("IPv6 duplicate address detection", || {
        connects(&b, &v6_b, &v6_a, 80)
    });
    assert!(
        !connects(&b, "192.0.2.6", "192.0.2.5", 81),
        "security groups hold across nodes"
    );
    assert!(
        !connects(&c, "192.0.2.7", "192.0.2.5", 80),
        "another tenant's network is not connected"
    );
    assert!(!pings(&c, "192.0.2.5"), "not even for ICMP");
    assert!(
        http_get(&world, "http://203.0.113.20/"),
        "the floating IP reaches A's HTTP server from outside"
    );
    assert!(
        connects(&b, "192.0.2.6", "203.0.113.254", 80),
        "B reaches the outside through the router's SNAT"
    );
    // IPv6 is routed, not translated: B takes its default route from the
    // router's advertisements (across VXLAN) and reaches the outside.
    wait_for("an IPv6 default route from the router", || {
        route6(&b).contains("default via fe80::f816:3eff:fe00:e2")
    });
    wait_for("IPv6 through the router", || {
        connects(&b, &v6_b, "2001:db8:ff::254", 80)
    });

    // Applying the same plans again changes nothing: the DHCP server keeps
    // running (same pid) and traffic still flows.
    let pid_file = h1.state_dir.join("dhcp").join(TENANT).join("pid");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    for (h, plan) in [(&h1, &plan1), (&h2, &plan2)] {
        let errors = apply(h, plan);
        assert!(errors.is_empty(), "{errors:?}");
    }
    assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), pid);
    assert!(connects(&b, "192.0.2.6", "192.0.2.5", 80));

    // Nothing planned: bridges, the DHCP server and the router go.
    for h in [&h1, &h2] {
        let errors = apply(h, &NodeNetwork::default());
        assert!(errors.is_empty(), "{errors:?}");
    }
    let links = Command::new("ip")
        .args(["-n", &node1.0, "-br", "link"])
        .output()
        .unwrap();
    let links = String::from_utf8_lossy(&links.stdout);
    assert!(!links.contains("vbr") && !links.contains("vvx"), "{links}");
    let namespaces = Command::new("ip").args(["netns", "list"]).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&namespaces.stdout).contains(&prefix),
        "the DHCP and router namespaces are gone"
    );
    assert!(!http_get(&world, "http://203.0.113.20/"));
    for s in &mut servers {
        let _ = s.kill();
        let _ = s.wait();
    }
}
