//! A real TCG guest on a Virga network: the data plane built in the test
//! kit's libvirtd namespace (where the guest's tap appears), the guest
//! (the test image) asks for its address by DHCP and gets its port's from
//! the network's dnsmasq, and serves HTTP to a client namespace through
//! its security group, until the rule that admits port 80 is removed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use virga_agent::driver::libvirt::{Libvirt, LibvirtConfig};
use virga_agent::driver::{BootImage, Driver};
use virga_agent::netplane::{Host, apply};
use virga_protocol::agent::{ImageRef, InstanceSpec, PortSpec};
use virga_protocol::network::{
    DhcpHost, DhcpPlan, DhcpSubnet, Direction, Ethertype, FilterRule, NetworkPlan, NodeNetwork,
    PortFilter, Segment,
};
use virga_testkit::libvirt;

const BOOT_DEADLINE: Duration = Duration::from_secs(120);

fn images() -> PathBuf {
    std::env::var_os("VIRGA_TEST_IMAGES").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/virga-test-images"),
        PathBuf::from,
    )
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rule(direction: Direction, port: Option<u16>) -> FilterRule {
    FilterRule {
        direction,
        ethertype: Ethertype::IPv4,
        protocol: port.map(|_| 6),
        port_min: port,
        port_max: port,
        remote_prefixes: vec![],
        any_remote: true,
        remote_group: None,
    }
}

/// An HTTP GET of the guest's page from the client namespace, within 3 s.
fn fetches(client: &str, url: &str) -> bool {
    Command::new("ip")
        .args(["netns", "exec", client, "python3", "-c"])
        .arg(format!(
            "import urllib.request; urllib.request.urlopen('{url}', timeout=3).read()"
        ))
        .status()
        .unwrap()
        .success()
}

/// Removes what the test made in the shared namespace, passed or not.
struct Cleanup {
    host: Host,
    client: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = apply(&self.host, &NodeNetwork::default());
        let _ = Command::new("ip")
            .args(["netns", "del", &self.client])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_guest_gets_its_address_by_dhcp_and_serves_through_its_security_group() {
    let kit = tokio::task::block_in_place(libvirt::shared);
    let node = kit.netns().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("virga-lvn{}", std::process::id());
    // The network's physical interface: one end of a veth of its own.
    ip(&[
        "-n", &node, "link", "add", "lvnphys", "type", "veth", "peer", "name", "lvnphys1",
    ]);
    let host = Host {
        netns: Some(node.clone()),
        ns_prefix: format!("{tag}-"),
        physical: BTreeMap::from([("lab".into(), "lvnphys".into())]),
        tunnel_ip: None,
        state_dir: dir.path().join("net"),
    };
    let client = format!("{tag}-client");
    let _cleanup = Cleanup {
        host: host.clone(),
        client: client.clone(),
    };
    let net = uuid::Uuid::new_v4().to_string();
    let guest_port = uuid::Uuid::new_v4().to_string();
    let client_port = uuid::Uuid::new_v4().to_string();
    let guest_mac = "fa:16:3e:00:01:0a";
    let bridge = format!("vbr{}", &net[..11]);

    // The client: a namespace on the same network.
    ip(&["netns", "add", &client]);
    ip(&[
        "link",
        "add",
        "eth0",
        "netns",
        &client,
        "type",
        "veth",
        "peer",
        "name",
        "tapclient0",
        "netns",
        &node,
    ]);
    ip(&["-n", &client, "addr", "add", "192.0.2.20/24", "dev", "eth0"]);
    ip(&["-n", &client, "link", "set", "eth0", "up"]);
    let plan = |web_open: bool| NodeNetwork {
        networks: vec![NetworkPlan {
            network_id: net.clone(),
            segment: Segment::Flat {
                physical_network: "lab".into(),
            },
            mtu: 1500,
            dhcp: Some(DhcpPlan {
                port_id: uuid::Uuid::new_v4().to_string(),
                mac: "fa:16:3e:00:01:d1".into(),
                subnets: vec![DhcpSubnet {
                    subnet_id: "s".into(),
                    cidr: "192.0.2.0/24".into(),
                    address: "192.0.2.2".parse().unwrap(),
                    gateway: None,
                    dns_nameservers: vec![],
                    host_routes: vec![],
                    ipv6_mode: None,
                }],
                hosts: vec![DhcpHost {
                    mac: guest_mac.into(),
                    ips: vec!["192.0.2.10".parse().unwrap()],
                    hostname: Some("web".into()),
                }],
            }),
        }],
        ports: vec![
            PortFilter {
                port_id: guest_port.clone(),
                device: format!("tap{}", &guest_port[..11]),
                network_id: net.clone(),
                mac: guest_mac.into(),
                fixed_ips: vec!["192.0.2.10".parse().unwrap()],
                allowed_address_pairs: vec![],
                port_security: true,
                rules: if web_open {
                    vec![
                        rule(Direction::Egress, None),
                        rule(Direction::Ingress, Some(80)),
                    ]
                } else {
                    vec![rule(Direction::Egress, None)]
                },
            },
            PortFilter {
                port_id: client_port.clone(),
                device: "tapclient0".into(),
                network_id: net.clone(),
                mac: String::from_utf8(
                    Command::new("ip")
                        .args(["-n", &client, "-br", "link", "show", "eth0"])
                        .output()
                        .unwrap()
                        .stdout,
                )
                .unwrap()
                .split_whitespace()
                .nth(2)
                .unwrap()
                .to_owned(),
                fixed_ips: vec!["192.0.2.20".parse().unwrap()],
                allowed_address_pairs: vec![],
                port_security: true,
                rules: vec![rule(Direction::Egress, None)],
            },
        ],
        routers: vec![],
        groups: vec![],
    };
    let errors = tokio::task::block_in_place(|| apply(&host, &plan(true)));
    assert!(errors.is_empty(), "{errors:?}");

    let d = Libvirt::connect(LibvirtConfig {
        uri: kit.uri(),
        domain_type: "qemu".into(),
        arch: "x86_64".into(),
        instance_path: dir.path().join("instances"),
    })
    .await
    .unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let spec = InstanceSpec {
        uuid: id.clone(),
        name: "web".into(),
        vcpus: 1,
        memory_mb: 192,
        disk_gb: 1,
        image: ImageRef {
            arch: Some("x86_64".into()),
            ..ImageRef::held("virga-test-vm", "qcow2")
        },
        ports: vec![PortSpec {
            id: guest_port.clone(),
            mac: guest_mac.into(),
            bridge: Some(bridge.clone()),
        }],
        metadata: BTreeMap::new(),
        user_data: None,
        build: 0,
    };
    std::fs::create_dir_all(dir.path().join("instances")).unwrap();
    let image = BootImage {
        path: images().join("virga-test-vm.qcow2"),
        format: "qcow2".into(),
    };
    d.spawn(&spec, &image, true).await.unwrap();
    let until = Instant::now() + BOOT_DEADLINE;
    let log = loop {
        let log = d.console_log(&id, 1 << 20).await.unwrap();
        if log.contains("VIRGA-TEST-IMAGE-READY") {
            break log;
        }
        assert!(Instant::now() < until, "the guest never got ready:\n{log}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        log.contains("VIRGA-TEST-IMAGE-READY 192.0.2.10/24"),
        "the guest has its port's address from DHCP:\n{log}"
    );
    let url = "http://192.0.2.10/";
    assert!(fetches(&client, url), "port 80 is open to the client");

    // Without the rule, the guest's HTTP server is out of reach.
    let errors = tokio::task::block_in_place(|| apply(&host, &plan(false)));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(!fetches(&client, url), "nothing admits port 80 any more");
    d.destroy(&id).await.unwrap();
}
