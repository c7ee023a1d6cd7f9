//! A "node" for data plane tests: a network namespace the test makes (with
//! an underlay address for VXLAN), the agent configured to build its data
//! plane there, and, when dropped, every namespace and DHCP server made
//! under the node's tag removed.

use std::path::{Path, PathBuf};
use std::process::Command;

use virga_common::config::AgentConfig;

/// The node's VXLAN tunnel address (TEST-NET-2, inside the namespace).
pub const TUNNEL_IP: &str = "198.51.100.1";

pub struct TestNode {
    /// The namespace standing for the node.
    pub ns: String,
    /// Every namespace of this node starts with it.
    pub tag: String,
    dir: tempfile::TempDir,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TestNode {
    /// Makes the namespace `<tag>-node`; `hint` starts the tag.
    pub fn new(hint: &str) -> TestNode {
        let dir = tempfile::Builder::new().prefix(hint).tempdir().unwrap();
        let tag = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let ns = format!("{tag}-node");
        ip(&["netns", "add", &ns]);
        // No dummy devices on every kernel: a veth whose peer stays idle.
        ip(&[
            "-n",
            &ns,
            "link",
            "add",
            "underlay",
            "type",
            "veth",
            "peer",
            "name",
            "underlay1",
        ]);
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{TUNNEL_IP}/24"),
            "dev",
            "underlay",
        ]);
        ip(&["-n", &ns, "link", "set", "underlay", "up"]);
        TestNode { ns, tag, dir }
    }

    /// `config` with the data plane in this node's namespace.
    pub fn agent_config(&self, mut config: AgentConfig) -> AgentConfig {
        config.network.netns = Some(self.ns.clone());
        config.network.namespace_prefix = format!("{}-", self.tag);
        config.network.tunnel_ip = Some(TUNNEL_IP.parse().unwrap());
        config
    }

    /// The agent's data directory; its path names the node's DHCP servers
    /// (their configuration files are under it).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join(&self.tag)
    }

    /// A scratch directory of the node's.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-f", &format!("{}/", self.tag)])
            .status();
        let list = Command::new("ip").args(["netns", "list"]).output();
        for line in list
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
            .lines()
        {
            let name = line.split_whitespace().next().unwrap_or_default();
            if name.starts_with(&self.tag) {
                let _ = Command::new("ip").args(["netns", "del", name]).status();
            }
        }
    }
}
