//! What the data plane writes for dnsmasq, for routers' NAT and for their
//! IPv6 router advertisements (radvd).

use std::collections::HashMap;
use std::path::Path;

use virga_protocol::network::{
    Advertised, DhcpHost, DhcpPlan, DhcpSubnet, FloatingNat, HostRoute, Ipv6Mode, RouterGateway,
    RouterLeg, RouterPlan,
};

use super::super::{dnsmasq, radvd, router};

fn subnet(cidr: &str, address: &str, mode: Option<Ipv6Mode>) -> DhcpSubnet {
    DhcpSubnet {
        subnet_id: cidr.into(),
        cidr: cidr.into(),
        address: address.parse().unwrap(),
        gateway: None,
        dns_nameservers: vec![],
        host_routes: vec![],
        ipv6_mode: mode,
    }
}

fn plan() -> DhcpPlan {
    let mut v4 = subnet("10.1.0.0/22", "10.1.0.2", None);
    v4.gateway = Some("10.1.0.1".parse().unwrap());
    v4.dns_nameservers = vec!["10.9.9.9".parse().unwrap(), "2001:db8::53".parse().unwrap()];
    v4.host_routes = vec![
        HostRoute {
            destination: "172.16.0.0/12".into(),
            nexthop: "10.1.0.254".parse().unwrap(),
        },
        // Not a prefix: left out rather than written into the file.
        HostRoute {
            destination: "bogus\ndhcp-script=/bin/sh".into(),
            nexthop: "10.1.0.254".parse().unwrap(),
        },
    ];
    let mut v6 = subnet(
        "2001:db8:1::/64",
        "2001:db8:1::2",
        Some(Ipv6Mode::Dhcpv6Stateful),
    );
    v6.dns_nameservers = vec!["2001:db8::53".parse().unwrap()];
    DhcpPlan {
        port_id: "p".into(),
        mac: "fa:16:3e:00:00:01".into(),
        subnets: vec![
            v4,
            v6,
            subnet("2001:db8:2::/64", "2001:db8:2::2", Some(Ipv6Mode::Slaac)),
            subnet("2001:db8:3::/64", "2001:db8:3::2", None),
        ],
        hosts: vec![
            DhcpHost {
                mac: "FA:16:3E:00:00:0A".into(),
                ips: vec![
                    "2001:db8:2::f816:3eff:fe00:a".parse().unwrap(),
                    "10.1.0.10".parse().unwrap(),
                    "2001:db8:1::10".parse().unwrap(),
                ],
                hostname: Some("web-1".into()),
            },
            // Only a SLAAC address: nothing to hand out.
            DhcpHost {
                mac: "fa:16:3e:00:00:0b".into(),
                ips: vec!["2001:db8:2::f816:3eff:fe00:b".parse().unwrap()],
                hostname: None,
            },
            DhcpHost {
                mac: "not-a-mac\n".into(),
                ips: vec!["10.1.0.11".parse().unwrap()],
                hostname: Some("bad name;".into()),
            },
        ],
    }
}

#[test]
fn dnsmasq_serves_only_planned_hosts_with_the_subnets_options() {
    let c = dnsmasq::config(Path::new("/var/lib/virga/dhcp/n"), "ns-p", &plan(), 1450);
    for want in [
        "port=0",
        "interface=ns-p",
        "dhcp-hostsfile=/var/lib/virga/dhcp/n/hosts",
        "dhcp-range=set:s0,10.1.0.0,static,255.255.252.0,86400s",
        "dhcp-option=tag:s0,option:router,10.1.0.1",
        "dhcp-option=tag:s0,option:classless-static-route,172.16.0.0/12,10.1.0.254,0.0.0.0/0,10.1.0.1",
        "dhcp-option=tag:s0,option:dns-server,10.9.9.9\n",
        "dhcp-option-force=tag:s0,option:mtu,1450",
        "dhcp-range=set:s1,2001:db8:1::,static,64,86400s",
        "dhcp-option=tag:s1,option6:dns-server,[2001:db8::53]",
        "dhcp-range=set:s2,2001:db8:2::,ra-only,64,86400s",
        "enable-ra",
        "ra-param=ns-p,mtu:1450,10,0",
    ] {
        assert!(c.contains(want), "missing {want:?} in\n{c}");
    }
    assert!(!c.contains("bogus"), "{c}");
    assert!(
        !c.contains("s3,"),
        "a subnet without an IPv6 mode is not served:\n{c}"
    );
    assert_eq!(
        dnsmasq::hosts(&plan()),
        "fa:16:3e:00:00:0a,10.1.0.10,[2001:db8:1::10],web-1\n"
    );
}

#[test]
fn a_subnet_without_gateway_gives_no_router() {
    let mut p = plan();
    p.subnets.truncate(1);
    p.subnets[0].gateway = None;
    p.subnets[0].host_routes.clear();
    let c = dnsmasq::config(Path::new("/d"), "ns-p", &p, 1500);
    assert!(c.contains("dhcp-option=tag:s0,option:router\n"), "{c}");
    assert!(!c.contains("enable-ra"), "{c}");
}

#[test]
fn routers_translate_floating_ips_and_masquerade_behind_the_gateway() {
    let leg = |id: &str, addr: &str| RouterLeg {
        port_id: id.into(),
        network_id: "n".into(),
        mac: "fa:16:3e:00:00:01".into(),
        addresses: vec![addr.into()],
        advertise: vec![],
    };
    let mut r = RouterPlan {
        router_id: "r".into(),
        gateway: Some(RouterGateway {
            leg: leg("a1b2c3d4-e5f6", "203.0.113.10/24"),
            next_hops: vec![],
            snat: true,
        }),
        interfaces: vec![leg("b1", "10.0.0.1/24")],
        floating_ips: vec![FloatingNat {
            floating_ip: "203.0.113.20".parse().unwrap(),
            fixed_ip: "10.0.0.5".parse().unwrap(),
        }],
    };
    let nat = router::nat(&r).unwrap();
    for want in [
        "ip daddr 203.0.113.20 dnat to 10.0.0.5",
        "oifname \"qg-a1b2c3d4-e5\" ip saddr 10.0.0.5 snat to 203.0.113.20",
        "oifname \"qg-a1b2c3d4-e5\" iifname != \"qg-a1b2c3d4-e5\" snat to 203.0.113.10",
        "delete table ip virga_nat",
    ] {
        assert!(nat.contains(want), "missing {want:?} in\n{nat}");
    }
    // The floating IP's own translation comes before SNAT.
    assert!(nat.find("snat to 203.0.113.20") < nat.find("snat to 203.0.113.10"));
    r.gateway.as_mut().unwrap().snat = false;
    assert!(!router::nat(&r).unwrap().contains("snat to 203.0.113.10"));
    r.gateway = None;
    assert!(
        !router::nat(&r).unwrap().contains("dnat"),
        "no gateway, no NAT"
    );
}

#[test]
fn routers_advertise_themselves_on_their_ipv6_subnets_with_each_mode() {
    let advertised = |cidr: &str, mode: Option<Ipv6Mode>| Advertised {
        cidr: cidr.into(),
        mode,
        dns_nameservers: vec!["2001:db8:53::1".parse().unwrap()],
    };
    let leg = |id: &str, advertise: Vec<Advertised>| RouterLeg {
        port_id: id.into(),
        network_id: "n".into(),
        mac: "fa:16:3e:00:00:01".into(),
        addresses: vec!["2001:db8:1::1/64".into()],
        advertise,
    };
    let mut r = RouterPlan {
        router_id: "r".into(),
        gateway: None,
        interfaces: vec![
            leg(
                "b1b1b1b1-0000",
                vec![advertised("2001:db8:1::/64", Some(Ipv6Mode::Slaac))],
            ),
            leg(
                "b2b2b2b2-0000",
                vec![advertised(
                    "2001:db8:2::/64",
                    Some(Ipv6Mode::Dhcpv6Stateful),
                )],
            ),
            leg("b3b3b3b3-0000", vec![advertised("2001:db8:3::/64", None)]),
            leg("b4b4b4b4-0000", vec![]),
        ],
        floating_ips: vec![],
    };
    let mtus = HashMap::from([("n", 1450)]);
    let c = radvd::config(&r, &mtus).unwrap().unwrap();
    let block = |iface: &str| {
        let start = c
            .find(&format!("interface {iface}\n"))
            .unwrap_or_else(|| panic!("{iface} in\n{c}"));
        let end = start + c[start..].find("\n};\n").unwrap();
        c[start..end].to_owned()
    };
    let slaac = block("qr-b1b1b1b1-00");
    for want in [
        "AdvSendAdvert on;",
        "AdvLinkMTU 1450;",
        "AdvManagedFlag off;",
        "AdvOtherConfigFlag off;",
        "prefix 2001:db8:1::/64",
        "AdvAutonomous on;",
        "RDNSS 2001:db8:53::1",
    ] {
        assert!(slaac.contains(want), "missing {want:?} in\n{slaac}");
    }
    let stateful = block("qr-b2b2b2b2-00");
    for want in [
        "AdvManagedFlag on;",
        "AdvOtherConfigFlag on;",
        "AdvAutonomous off;",
    ] {
        assert!(stateful.contains(want), "missing {want:?} in\n{stateful}");
    }
    let route_only = block("qr-b3b3b3b3-00");
    assert!(
        route_only.contains("AdvSendAdvert on;") && !route_only.contains("prefix"),
        "no ipv6_ra_mode: the route, no prefix\n{route_only}"
    );
    assert!(!c.contains("qr-b4b4b4b4-00"), "nothing to advertise there");
    r.interfaces.truncate(0);
    assert_eq!(radvd::config(&r, &mtus).unwrap(), None);
}
