//! `openstack network|subnet|port|security group ...` (openstacksdk's
//! network proxy) against the network service: a dual-stack network, a
//! port with a chosen address and its SLAAC one, a security group with a
//! rule, and what another project sees.

use serde_json::Value;

use super::{openstack, openstack_fails, openstack_quiet};

fn ips(port: &Value) -> Vec<String> {
    port["fixed_ips"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|f| f["ip_address"].as_str().unwrap_or_default().to_owned())
        .collect()
}

pub fn network(admin: &[(&str, &str)], alice: &[(&str, &str)]) {
    let net = openstack(alice, &["network", "create", "net1"]);
    assert_eq!(net["name"], "net1", "{net}");
    assert_eq!(net["mtu"], 1450, "{net}");
    let net_id = net["id"].as_str().unwrap().to_owned();
    let s4 = openstack(
        alice,
        &[
            "subnet",
            "create",
            "s4",
            "--network",
            "net1",
            "--subnet-range",
            "10.0.0.0/24",
            "--allocation-pool",
            "start=10.0.0.100,end=10.0.0.200",
            "--dns-nameserver",
            "10.0.0.53",
        ],
    );
    assert_eq!(s4["gateway_ip"], "10.0.0.1", "{s4}");
    assert_eq!(s4["network_id"], net_id.as_str());
    let s6 = openstack(
        alice,
        &[
            "subnet",
            "create",
            "s6",
            "--network",
            "net1",
            "--ip-version",
            "6",
            "--subnet-range",
            "fd00:1::/64",
            "--ipv6-ra-mode",
            "slaac",
            "--ipv6-address-mode",
            "slaac",
        ],
    );
    assert_eq!(s6["gateway_ip"], "fd00:1::", "{s6}");

    // A port with a chosen address also gets its SLAAC address.
    let port = openstack(
        alice,
        &[
            "port",
            "create",
            "p1",
            "--network",
            "net1",
            "--fixed-ip",
            "subnet=s4,ip-address=10.0.0.50",
        ],
    );
    let addrs = ips(&port);
    assert!(addrs.contains(&"10.0.0.50".to_owned()), "{port}");
    assert!(addrs.iter().any(|a| a.starts_with("fd00:1::")), "{port}");
    let listed = openstack(alice, &["port", "list", "--network", "net1"]);
    assert!(
        listed.as_array().unwrap().iter().any(|p| p["Name"] == "p1"),
        "{listed}"
    );
    // The address is taken: a second port asking for it fails.
    let err = openstack_fails(
        alice,
        &[
            "port",
            "create",
            "p2",
            "--network",
            "net1",
            "--fixed-ip",
            "subnet=s4,ip-address=10.0.0.50",
        ],
    );
    assert!(err.contains("already allocated"), "{err}");

    // A security group opening TCP 80 to the default group's members.
    let sg = openstack(alice, &["security", "group", "create", "web"]);
    let sg_id = sg["id"].as_str().unwrap().to_owned();
    let rule = openstack(
        alice,
        &[
            "security",
            "group",
            "rule",
            "create",
            "web",
            "--protocol",
            "tcp",
            "--dst-port",
            "80",
            "--remote-group",
            "default",
        ],
    );
    assert_eq!(
        (
            rule["port_range_min"].as_i64(),
            rule["port_range_max"].as_i64()
        ),
        (Some(80), Some(80)),
        "{rule}"
    );
    openstack_quiet(alice, &["port", "set", "p1", "--security-group", "web"]);
    let shown = openstack(alice, &["port", "show", "p1"]);
    let groups = shown["security_group_ids"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(groups.contains(&Value::String(sg_id.clone())), "{shown}");
    let groups = openstack(alice, &["security", "group", "list"]);
    let names: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["Name"].as_str())
        .collect();
    assert!(
        names.contains(&"default") && names.contains(&"web"),
        "{groups}"
    );

    // Another project (admin's) does not see alice's network among its
    // own; alice does not see the admin's.
    openstack(admin, &["network", "create", "admin-net"]);
    let mine = openstack(alice, &["network", "list"]);
    let names: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["Name"].as_str())
        .collect();
    assert_eq!(names, ["net1"], "{mine}");
    let err = openstack_fails(alice, &["network", "show", "admin-net"]);
    assert!(err.contains("admin-net"), "{err}");

    // A router to an external network and a floating IP through it
    // (TEST-NET-3 addresses: nothing is sent anywhere).
    openstack(
        admin,
        &[
            "network",
            "create",
            "public",
            "--external",
            "--share",
            "--provider-network-type",
            "flat",
            "--provider-physical-network",
            "physnet1",
        ],
    );
    openstack(
        admin,
        &[
            "subnet",
            "create",
            "public-v4",
            "--network",
            "public",
            "--no-dhcp",
            "--subnet-range",
            "203.0.113.0/24",
        ],
    );
    let router = openstack(alice, &["router", "create", "r1"]);
    assert_eq!(router["name"], "r1", "{router}");
    openstack_quiet(
        alice,
        &["router", "set", "r1", "--external-gateway", "public"],
    );
    openstack_quiet(alice, &["router", "add", "subnet", "r1", "s4"]);
    let shown = openstack(alice, &["router", "show", "r1"]);
    let gw = shown["external_gateway_info"].to_string();
    assert!(gw.contains("203.0.113."), "{shown}");
    let fip = openstack(
        alice,
        &["floating", "ip", "create", "public", "--port", "p1"],
    );
    let address = fip["floating_ip_address"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(address.starts_with("203.0.113."), "{fip}");
    assert_eq!(fip["fixed_ip_address"], "10.0.0.50", "{fip}");
    let fips = openstack(alice, &["floating", "ip", "list"]);
    assert!(
        fips.as_array()
            .unwrap()
            .iter()
            .any(|f| f["Floating IP Address"] == address.as_str()),
        "{fips}"
    );
    let err = openstack_fails(alice, &["router", "delete", "r1"]);
    assert!(err.contains("still has ports"), "{err}");
    openstack_quiet(alice, &["floating", "ip", "delete", &address]);
    openstack_quiet(alice, &["router", "remove", "subnet", "r1", "s4"]);
    openstack_quiet(alice, &["router", "delete", "r1"]);

    // A network with a port cannot be deleted; without, it goes with its
    // subnets.
    let err = openstack_fails(alice, &["network", "delete", "net1"]);
    assert!(
        err.to_lowercase().contains("in use") || err.contains("ports still in use"),
        "{err}"
    );
    openstack_quiet(alice, &["port", "delete", "p1"]);
    openstack_quiet(alice, &["security", "group", "delete", "web"]);
    openstack_quiet(alice, &["network", "delete", "net1"]);
    // Only the shared external network is left in alice's view.
    let mine = openstack(alice, &["network", "list"]);
    let names: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["Name"].as_str())
        .collect();
    assert_eq!(names, ["public"], "{mine}");
    // Gone too: a server asked with no network gets the one its project
    // sees (Nova 2.1), and the servers test runs without networks.
    openstack_quiet(admin, &["network", "delete", "public"]);
    assert_eq!(
        openstack(alice, &["network", "list"]),
        serde_json::json!([])
    );
}
