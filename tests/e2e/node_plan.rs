//! Nodes' network plans end to end, on both backends: ports created
//! through the Neutron API and bound to a node (`binding:host_id`, the
//! node's id) reach the node's agent as a plan; the agent builds the
//! network in a namespace standing for the node; a guest (a namespace on
//! the port's tap) gets its address by DHCP from the node's own DHCP port;
//! the port turns ACTIVE; a security group rule reaches the node's
//! nftables; deleting the port and the network takes it all away.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use virga_agent::BusSource;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_tests::Cloud;
use virga_tests::netns::TestNode;

use super::agent::{TestAgent, agent_config, registered};
use super::network::Net;

crate::on_both_backends!(bound_ports_reach_their_node);

fn sh(args: &[&str]) -> (bool, String) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn ok(args: &[&str]) -> String {
    let (ok, out) = sh(args);
    assert!(ok, "{args:?}: {out}");
    out
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn bound_ports_reach_their_node(cloud: &Cloud) {
    let place = TestNode::new("virga-np");
    let node_ns = place.ns.clone();
    // The guest's namespace carries the node's tag: removed with it.
    let guest_ns = format!("{}-guest", place.tag);
    ok(&["ip", "netns", "add", &guest_ns]);
    let config = place.agent_config(agent_config("plan-site"));
    let data = place.data_dir();
    let agent = TestAgent::start(
        BusSource::Ready(cloud.bus.clone()),
        &data,
        Simulated::new(SimConfig::default()),
        config,
    )
    .await;
    let node = agent.running.node.clone();
    registered(cloud, &node).await;

    let admin = Net {
        cloud,
        token: cloud.admin_token().await,
    };
    let net = admin.create("network", json!({"name": "plan-net"})).await;
    let net_id = net["id"].as_str().unwrap().to_owned();
    assert_eq!(net["provider:network_type"], "vxlan");
    admin
        .create(
            "subnet",
            json!({"network_id": net_id, "ip_version": 4, "cidr": "192.0.2.0/24"}),
        )
        .await;
    let port = admin
        .create(
            "port",
            json!({"network_id": net_id, "binding:host_id": node,
                   "device_owner": "compute:nova", "device_id": "vm-1"}),
        )
        .await;
    let port_id = port["id"].as_str().unwrap().to_owned();
    let mac = port["mac_address"].as_str().unwrap().to_owned();
    let fixed = port["fixed_ips"][0]["ip_address"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(port["status"], "DOWN");

    // The guest: a namespace on a veth whose node end is the port's tap.
    let tap = format!("tap{}", &port_id[..11]);
    ok(&[
        "ip", "link", "add", "eth0", "netns", &guest_ns, "type", "veth", "peer", "name", &tap,
        "netns", &node_ns,
    ]);
    ok(&[
        "ip", "-n", &guest_ns, "link", "set", "eth0", "address", &mac, "up",
    ]);
    ok(&["ip", "-n", &node_ns, "link", "set", &tap, "up"]);

    let port_path = format!("/v2.0/ports/{port_id}");
    eventually("the port to turn ACTIVE", async || {
        admin.get(&port_path).await.1["port"]["status"] == "ACTIVE"
    })
    .await;
    let bridge = format!("vbr{}", &net_id[..11]);
    let (_, tap_link) = sh(&["ip", "-n", &node_ns, "link", "show", &tap]);
    assert!(tap_link.contains(&format!("master {bridge}")), "{tap_link}");
    // The node's own DHCP port, bound to it.
    let (_, dhcp) = admin
        .get(&format!(
            "/v2.0/ports?network_id={net_id}&device_owner=network:dhcp"
        ))
        .await;
    let dhcp_ports = dhcp["ports"].as_array().unwrap();
    assert_eq!(dhcp_ports.len(), 1, "{dhcp}");
    assert_eq!(dhcp_ports[0]["binding:host_id"], node.as_str());

    // DHCP hands the guest the port's address.
    let script = place.scratch().join("udhcpc.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncase \"$1\" in bound|renew) ip addr add \"$ip/$mask\" dev \"$interface\";; esac\nexit 0\n",
    )
    .unwrap();
    ok(&["chmod", "755", script.to_str().unwrap()]);
    let lease = Command::new("ip")
        .args([
            "netns", "exec", &guest_ns, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t",
            "10", "-T", "1", "-s",
        ])
        .arg(&script)
        .status()
        .unwrap();
    assert!(lease.success(), "the guest gets a lease");
    let (_, addrs) = sh(&["ip", "-n", &guest_ns, "addr", "show", "eth0"]);
    assert!(addrs.contains(&format!("inet {fixed}/24")), "{addrs}");

    // A rule added to the port's (default) group reaches the node.
    let groups: Vec<Value> = port["security_groups"].as_array().unwrap().clone();
    admin
        .create(
            "security_group_rule",
            json!({"security_group_id": groups[0], "direction": "ingress",
                   "protocol": "tcp", "port_range_min": 8080, "port_range_max": 8080}),
        )
        .await;
    eventually("the rule in the node's nftables", async || {
        sh(&["ip", "netns", "exec", &node_ns, "nft", "list", "ruleset"])
            .1
            .contains("tcp dport 8080 accept")
    })
    .await;

    // The port goes: its filter and DHCP port with it; then the network.
    assert_eq!(admin.delete(&port_path).await, 204);
    eventually("the port's filter to go", async || {
        !sh(&["ip", "netns", "exec", &node_ns, "nft", "list", "ruleset"])
            .1
            .contains(&format!("chain in_{}", &port_id[..8]))
    })
    .await;
    assert_eq!(admin.delete(&format!("/v2.0/networks/{net_id}")).await, 204);
    eventually("the bridge to go", async || {
        !sh(&["ip", "-n", &node_ns, "-br", "link"])
            .1
            .contains(&bridge)
    })
    .await;
    agent.stop().await;
    drop(place);
}
