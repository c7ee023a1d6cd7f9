//! Where the data plane runs and how its commands run there: iproute2,
//! `bridge`, `nft`, `sysctl` and dnsmasq, in the node's network namespace
//! or in the namespaces the agent makes for DHCP servers and routers.
//! Commands are the kernel's own tools rather than netlink bindings: what
//! the agent does is what an operator can read and repeat by hand.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;

/// The node's data plane settings.
#[derive(Debug, Clone)]
pub struct Host {
    /// The named namespace standing for the node (tests, where several
    /// "nodes" share one machine); `None` is the agent's own namespace.
    pub netns: Option<String>,
    /// The prefix of the namespaces made for DHCP servers and routers
    /// (namespace names are machine-wide).
    pub ns_prefix: String,
    /// Physical network name → the node's interface on it (flat and VLAN
    /// segments).
    pub physical: BTreeMap<String, String>,
    /// The node's address for VXLAN tunnels.
    pub tunnel_ip: Option<IpAddr>,
    /// DHCP server configurations, leases and pid files.
    pub state_dir: PathBuf,
}

/// Why the data plane could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum NetplaneError {
    #[error("could not start {program}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("unexpected output from `{command}`")]
    Output {
        command: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Plan(String),
    #[error("could not write {path}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Ruleset(#[from] super::nft::RulesetError),
}

/// A link as `ip -j -d link show` reports it (the fields the agent reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Link {
    pub ifname: String,
    #[serde(default)]
    pub master: Option<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub linkinfo: Option<LinkInfo>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LinkInfo {
    #[serde(default)]
    pub info_kind: Option<String>,
    #[serde(default)]
    pub info_data: Option<serde_json::Value>,
}

impl Link {
    pub fn kind(&self) -> Option<&str> {
        self.linkinfo.as_ref()?.info_kind.as_deref()
    }

    pub fn data(&self, key: &str) -> Option<&serde_json::Value> {
        self.linkinfo.as_ref()?.info_data.as_ref()?.get(key)
    }

    pub fn is_up(&self) -> bool {
        self.flags.iter().any(|f| f == "UP")
    }
}

impl Host {
    /// Runs `program args` in namespace `ns` (`None`: the node's; `""`:
    /// the machine's own, for `ip netns` itself).
    pub fn run_in(
        &self,
        ns: Option<&str>,
        program: &str,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<String, NetplaneError> {
        let ns = ns.or(self.netns.as_deref());
        let mut cmd = match ns {
            Some(ns) if !ns.is_empty() => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            _ => Command::new(program),
        };
        cmd.args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawn = |source| NetplaneError::Spawn {
            program: program.to_owned(),
            source,
        };
        let mut child = cmd.spawn().map_err(spawn)?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes()).map_err(spawn)?;
        }
        let out = child.wait_with_output().map_err(spawn)?;
        if !out.status.success() {
            return Err(NetplaneError::Failed {
                command: format!("{program} {}", args.join(" ")),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `ip args` in the node's namespace.
    pub fn ip(&self, args: &[&str]) -> Result<String, NetplaneError> {
        self.run_in(None, "ip", args, None)
    }

    /// `ip args` in namespace `ns`.
    pub fn ip_in(&self, ns: &str, args: &[&str]) -> Result<String, NetplaneError> {
        self.run_in(Some(ns), "ip", args, None)
    }

    /// Sets a sysctl (`key=value`) in namespace `ns` (`None`: the node's).
    pub fn sysctl(&self, ns: Option<&str>, setting: &str) -> Result<(), NetplaneError> {
        self.run_in(ns, "sysctl", &["-q", "-w", setting], None)
            .map(|_| ())
    }

    /// Loads an nftables script (one transaction) in namespace `ns`.
    pub fn nft_load(&self, ns: Option<&str>, script: &str) -> Result<(), NetplaneError> {
        self.run_in(ns, "nft", &["-f", "-"], Some(script))
            .map(|_| ())
    }

    /// Parsed JSON output of a command.
    pub fn json<T: for<'de> Deserialize<'de>>(
        &self,
        ns: Option<&str>,
        program: &str,
        args: &[&str],
    ) -> Result<T, NetplaneError> {
        let out = self.run_in(ns, program, args, None)?;
        let out = if out.trim().is_empty() { "[]" } else { &out };
        serde_json::from_str(out).map_err(|source| NetplaneError::Output {
            command: format!("{program} {}", args.join(" ")),
            source,
        })
    }

    /// Every link of namespace `ns` (`None`: the node's), with details.
    pub fn links(&self, ns: Option<&str>) -> Result<Vec<Link>, NetplaneError> {
        self.json(ns, "ip", &["-j", "-d", "link", "show"])
    }

    /// The namespaces on the machine whose names start with `prefix`.
    pub fn namespaces(&self, prefix: &str) -> Result<Vec<String>, NetplaneError> {
        #[derive(Deserialize)]
        struct Ns {
            name: String,
        }
        let all: Vec<Ns> = self.json(Some(""), "ip", &["-j", "netns", "list"])?;
        Ok(all
            .into_iter()
            .map(|n| n.name)
            .filter(|n| n.starts_with(prefix))
            .collect())
    }

    /// Makes namespace `name` if it does not exist, with loopback up.
    pub fn ensure_namespace(&self, name: &str) -> Result<(), NetplaneError> {
        // Where `ip netns` keeps its names: no listing needed.
        if std::path::Path::new("/run/netns").join(name).exists() {
            return Ok(());
        }
        self.run_in(Some(""), "ip", &["netns", "add", name], None)?;
        self.ip_in(name, &["link", "set", "lo", "up"])?;
        Ok(())
    }

    /// Removes namespace `name` (its devices go with it).
    pub fn remove_namespace(&self, name: &str) -> Result<(), NetplaneError> {
        self.run_in(Some(""), "ip", &["netns", "del", name], None)
            .map(|_| ())
    }
}
