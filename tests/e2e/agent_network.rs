//! The agent's network plan over the bus, on both backends: an
//! `ensure_network` is kept in the ledger, applied (in a namespace the test
//! makes, standing for the node) and answered with an `agent.network`
//! event; a stale one changes nothing; after a node "reboot" (its devices
//! and DHCP server gone) a restarted agent rebuilds them from its ledger
//! before hearing from the centre; an empty plan removes everything.

use std::process::Command;
use std::time::Duration;

use tokio::sync::mpsc;
use virga_agent::BusSource;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_protocol::agent::{AgentCommand, AgentEvent};
use virga_protocol::network::{
    DhcpHost, DhcpPlan, DhcpSubnet, NetworkPlan, NodeNetwork, PortFilter, Segment,
};
use virga_tests::Cloud;
use virga_tests::netns::TestNode;

use super::agent::{TestAgent, agent_config, events, registered, send};

crate::on_both_backends!(network_plans_are_applied_kept_and_restored);

const NET: &str = "5a5a5a5a-0000-4000-8000-000000000001";

fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn plan(with_dhcp: bool) -> NodeNetwork {
    let dhcp = with_dhcp.then(|| DhcpPlan {
        port_id: "d0d0d0d0-0000-4000-8000-000000000001".into(),
        mac: "fa:16:3e:00:00:d0".into(),
        subnets: vec![DhcpSubnet {
            subnet_id: "s".into(),
            cidr: "192.0.2.0/24".into(),
            address: "192.0.2.2".parse().unwrap(),
            gateway: Some("192.0.2.1".parse().unwrap()),
            dns_nameservers: vec![],
            host_routes: vec![],
            ipv6_mode: None,
        }],
        hosts: vec![DhcpHost {
            mac: "fa:16:3e:00:00:01".into(),
            ips: vec!["192.0.2.10".parse().unwrap()],
            hostname: None,
        }],
    });
    NodeNetwork {
        networks: vec![NetworkPlan {
            network_id: NET.into(),
            segment: Segment::Vxlan {
                vni: 4242,
                peers: vec!["198.51.100.2".parse().unwrap()],
            },
            mtu: 1450,
            dhcp,
        }],
        ports: vec![PortFilter {
            port_id: "b0b0b0b0-0000-4000-8000-000000000001".into(),
            device: "tapguest".into(),
            network_id: NET.into(),
            mac: "fa:16:3e:00:00:01".into(),
            fixed_ips: vec!["192.0.2.10".parse().unwrap()],
            allowed_address_pairs: vec![],
            port_security: true,
            rules: vec![],
        }],
        routers: vec![],
        groups: vec![],
    }
}

fn ensure(generation: u64, state: NodeNetwork) -> AgentCommand {
    AgentCommand::EnsureNetwork {
        request_id: format!("net-{generation}"),
        generation,
        state: Box::new(state),
    }
}

/// The next `agent.network` event of `node`: its generation, errors and
/// request id.
async fn outcome(
    rx: &mut mpsc::UnboundedReceiver<AgentEvent>,
    node: &str,
) -> (u64, Vec<String>, Option<String>) {
    let wait = async {
        loop {
            if let AgentEvent::Network {
                node: n,
                generation,
                errors,
                request_id,
                ..
            } = rx.recv().await.expect("events keep coming")
                && n == node
                && generation > 0
            {
                return (generation, errors, request_id);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the agent reports its network")
}

fn links(node: &TestNode) -> String {
    sh(&["ip", "-n", &node.ns, "-br", "link"])
}

fn dhcp_running(node: &TestNode) -> bool {
    let ps = Command::new("pgrep")
        .args(["-f", &format!("{}/agent/network/dhcp/{NET}/", node.tag)])
        .output()
        .unwrap();
    ps.status.success()
}

async fn network_plans_are_applied_kept_and_restored(cloud: &Cloud) {
    let node = TestNode::new("virga-an");
    // The guest's port device, with an idle peer.
    sh(&[
        "ip", "-n", &node.ns, "link", "add", "tapguest", "type", "veth", "peer", "name", "guest0",
    ]);
    let mut config = node.agent_config(agent_config("netplan-site"));
    // Ticks often enough to see a repair.
    config.network.reconcile_secs = 1;
    let data = node.data_dir();
    let (_sub, mut rx) = events(&cloud.bus).await;
    let sim = Simulated::new(SimConfig::default());
    let start = |sim: Simulated| {
        TestAgent::start(
            BusSource::Ready(cloud.bus.clone()),
            &data,
            sim,
            config.clone(),
        )
    };
    let agent = start(sim.clone()).await;
    let id = agent.running.node.clone();
    registered(cloud, &id).await;
    let bridge = format!("vbr{}", &NET[..11]);

    send(&cloud.bus, &id, &ensure(2, plan(true))).await;
    let (generation, errors, request) = outcome(&mut rx, &id).await;
    assert_eq!((generation, request.as_deref()), (2, Some("net-2")));
    assert!(errors.is_empty(), "{errors:?}");
    let l = links(&node);
    assert!(l.contains(&bridge), "{l}");
    assert!(l.contains(&format!("vvx{}", &NET[..11])), "{l}");
    let tap = sh(&["ip", "-n", &node.ns, "link", "show", "tapguest"]);
    assert!(tap.contains(&format!("master {bridge}")), "{tap}");
    assert!(dhcp_running(&node), "the DHCP server runs");
    let rules = sh(&["ip", "netns", "exec", &node.ns, "nft", "list", "ruleset"]);
    assert!(rules.contains("chain in_b0b0b0b0"), "{rules}");

    // An older plan is stale: nothing is removed.
    send(&cloud.bus, &id, &ensure(1, NodeNetwork::default())).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(links(&node).contains(&bridge));

    // The node "reboots": its bridges, DHCP namespace and server are gone.
    // The restarted agent rebuilds them from its ledger.
    agent.stop().await;
    let _ = Command::new("pkill")
        .args(["-f", &format!("{}/", node.tag)])
        .status();
    sh(&["ip", "-n", &node.ns, "link", "del", &bridge]);
    sh(&["ip", "netns", "del", &format!("{}-dhcp-{NET}", node.tag)]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!dhcp_running(&node));
    let agent = start(sim.clone()).await;
    let (generation, errors, request) = outcome(&mut rx, &id).await;
    assert_eq!((generation, request), (2, None), "restored from the ledger");
    assert!(errors.is_empty(), "{errors:?}");
    assert!(links(&node).contains(&bridge));
    assert!(dhcp_running(&node), "the DHCP server is back");

    // Ticks leave an intact filter alone (a rewrite would renumber the
    // tables' handles)...
    let handles = || {
        sh(&[
            "ip", "netns", "exec", &node.ns, "nft", "-a", "list", "ruleset",
        ])
    };
    let before = handles();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(before, handles(), "ticks did not rewrite the filter");
    // ... and a filter flushed behind the agent's back is seen in their
    // cheap check and written again.
    sh(&["ip", "netns", "exec", &node.ns, "nft", "flush", "ruleset"]);
    let mut repaired = false;
    for _ in 0..100 {
        let rules = sh(&["ip", "netns", "exec", &node.ns, "nft", "list", "ruleset"]);
        if rules.contains("chain in_b0b0b0b0") {
            repaired = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(repaired, "a tick writes the flushed filter again");

    // A plan without the network's DHCP server, then an empty one.
    send(&cloud.bus, &id, &ensure(3, plan(false))).await;
    let (generation, errors, _) = outcome(&mut rx, &id).await;
    assert_eq!(generation, 3);
    assert!(errors.is_empty(), "{errors:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!dhcp_running(&node), "the DHCP server stopped");
    send(&cloud.bus, &id, &ensure(4, NodeNetwork::default())).await;
    let (generation, errors, _) = outcome(&mut rx, &id).await;
    assert_eq!(generation, 4);
    assert!(errors.is_empty(), "{errors:?}");
    let l = links(&node);
    assert!(!l.contains("vbr") && !l.contains("vvx"), "{l}");
    let rules = sh(&["ip", "netns", "exec", &node.ns, "nft", "list", "ruleset"]);
    assert!(!rules.contains("chain in_"), "{rules}");
    agent.stop().await;
}
