//! The `[agent]` section: who this node is (its site, kind and labels),
//! which hypervisor driver runs its instances, how it carries networks,
//! and the agent's rhythms.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The site kinds the scheduler knows.
const SITE_KINDS: [&str; 4] = ["idc", "mec", "aio", "gateway"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// Whether `virga up` runs an agent for the local host.
    pub enabled: bool,
    /// The site this node belongs to; its first node creates it.
    pub site: String,
    /// `idc`, `mec`, `aio` or `gateway`: of the site, and of this node.
    pub kind: String,
    /// The site's region (default: the top-level `region`).
    pub region: Option<String>,
    /// Free-form labels the scheduler keeps with the node.
    pub labels: BTreeMap<String, String>,
    /// The name the node goes by (Nova's `host`: `os-services`,
    /// `os-hypervisors`, `migrate --host`); default the host's hostname.
    /// Two agents on one host need their own.
    pub hostname: Option<String>,
    /// `libvirt`, `simulated`, or `auto` (libvirt when this build has it
    /// and a libvirt daemon answers, else simulated, with a warning).
    pub driver: String,
    /// The libvirt connection URI.
    pub libvirt_uri: String,
    /// `kvm`, `qemu` (TCG, no hardware virtualisation), or `auto`: kvm when
    /// /dev/kvm exists and libvirt offers it. Nested virtualisation that
    /// exposes /dev/kvm but cannot run guests needs `qemu` here.
    pub libvirt_domain_type: String,
    /// Where instances' disks and console logs live (default
    /// `<data_dir>/instances`); its file system's size is the node's DISK_GB.
    pub instance_path: Option<PathBuf>,
    /// The root of the sysfs tree discovery reads (tests point it at a fake one).
    pub sysfs_root: PathBuf,
    /// The root of the procfs tree discovery reads.
    pub procfs_root: PathBuf,
    /// How often the agent tells the scheduler it is alive.
    pub heartbeat_secs: u64,
    /// How often the reconcile loop compares desired with actual state.
    pub reconcile_secs: u64,
    /// How long a graceful stop may take before the instance is forced off.
    pub stop_timeout_secs: u64,
    /// At start, how long the agent waits for the centre's queued commands
    /// (a server evacuated or deleted while the node was down) before it
    /// restores the guests its ledger says should run; a cut-off node
    /// restores them after this.
    pub restore_wait_secs: u64,
    /// The AMQP frame size the agent asks the broker for (bytes; 0 takes
    /// the broker's, 128 KiB on RabbitMQ). lapin keeps 64 frames of
    /// buffers per connection, so this decides about 1 MiB (or 8 MiB) of
    /// an idle agent's memory; agents' messages are small.
    pub bus_frame_max: u32,
    /// Memory (MiB) and disk (GiB) kept back for the host itself.
    pub reserved_memory_mb: i64,
    pub reserved_disk_gb: i64,
    /// How many vCPUs each physical CPU may back.
    pub cpu_allocation_ratio: f64,
    /// The most the node's image cache (`<instance_path>/_cache`) may
    /// hold, in GiB; 0 takes a quarter of the instance path's disk. The
    /// least recently used images no instance is built on go first.
    pub image_cache_gb: u64,
    /// How often images no instance uses are re-hashed, and corrupt
    /// copies dropped (hours; 0 never). Images are also verified before
    /// every build.
    pub image_scrub_hours: u64,
    /// The node's network data plane (`[agent.network]`).
    pub network: AgentNetworkConfig,
}

/// `[agent.network]`: how this node carries tenant networks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentNetworkConfig {
    /// Whether the agent applies the network plans the network service
    /// sends (bridges, VXLAN, DHCP servers, routers, nftables). Off, plans
    /// are kept in the ledger and reported as not applied.
    pub dataplane: bool,
    /// The node's address for VXLAN tunnels to other nodes.
    pub tunnel_ip: Option<IpAddr>,
    /// Physical network name → this node's interface on it, for flat and
    /// VLAN networks.
    pub physical_interfaces: BTreeMap<String, String>,
    /// A named network namespace to build the data plane in instead of the
    /// agent's own (a node that keeps tenant networks apart from its host
    /// networking; tests).
    pub netns: Option<String>,
    /// The prefix of the namespaces made for DHCP servers and routers.
    pub namespace_prefix: String,
    /// How often the plan is re-applied, repairing what changed behind
    /// the agent's back.
    pub reconcile_secs: u64,
}

impl Default for AgentNetworkConfig {
    fn default() -> Self {
        AgentNetworkConfig {
            dataplane: true,
            tunnel_ip: None,
            physical_interfaces: BTreeMap::new(),
            netns: None,
            namespace_prefix: "virga-".into(),
            reconcile_secs: 30,
        }
    }
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            enabled: true,
            site: "local".into(),
            kind: "aio".into(),
            region: None,
            labels: BTreeMap::new(),
            hostname: None,
            driver: "auto".into(),
            libvirt_uri: "qemu:///system".into(),
            libvirt_domain_type: "auto".into(),
            instance_path: None,
            sysfs_root: PathBuf::from("/sys"),
            procfs_root: PathBuf::from("/proc"),
            heartbeat_secs: 10,
            reconcile_secs: 5,
            stop_timeout_secs: 60,
            restore_wait_secs: 10,
            bus_frame_max: 16384,
            reserved_memory_mb: 512,
            reserved_disk_gb: 0,
            cpu_allocation_ratio: 4.0,
            image_cache_gb: 0,
            image_scrub_hours: 24,
            network: AgentNetworkConfig::default(),
        }
    }
}

impl AgentConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let fail = |k: &str, why: &str| Err((format!("agent.{k}"), why.to_string()));
        if self.site.trim().is_empty() {
            return fail("site", "must not be empty");
        }
        if !SITE_KINDS.contains(&self.kind.as_str()) {
            return fail("kind", &format!("must be one of {}", SITE_KINDS.join(", ")));
        }
        if !["auto", "libvirt", "simulated"].contains(&self.driver.as_str()) {
            return fail("driver", "must be auto, libvirt or simulated");
        }
        if !["auto", "kvm", "qemu"].contains(&self.libvirt_domain_type.as_str()) {
            return fail("libvirt_domain_type", "must be auto, kvm or qemu");
        }
        if self.bus_frame_max != 0 && self.bus_frame_max < 4096 {
            return fail(
                "bus_frame_max",
                "must be 0 or at least 4096 (AMQP's minimum)",
            );
        }
        if self.heartbeat_secs < 1 {
            return fail("heartbeat_secs", "must be at least 1");
        }
        if self.reconcile_secs < 1 {
            return fail("reconcile_secs", "must be at least 1");
        }
        if !(self.cpu_allocation_ratio.is_finite() && self.cpu_allocation_ratio > 0.0) {
            return fail("cpu_allocation_ratio", "must be a positive number");
        }
        let n = &self.network;
        if n.reconcile_secs < 1 {
            return fail("network.reconcile_secs", "must be at least 1");
        }
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !name_ok(&n.namespace_prefix) || n.namespace_prefix.len() > 40 {
            return fail(
                "network.namespace_prefix",
                "must be 1 to 40 letters, digits, '-', '_' or '.'",
            );
        }
        if n.netns.as_deref().is_some_and(|ns| !name_ok(ns)) {
            return fail("network.netns", "must be a namespace name");
        }
        for (physical, iface) in &n.physical_interfaces {
            if !name_ok(iface) || iface.len() > 15 {
                return fail(
                    &format!("network.physical_interfaces.{physical}"),
                    "must be an interface name (at most 15 characters)",
                );
            }
        }
        if self.reserved_memory_mb < 0 || self.reserved_disk_gb < 0 {
            return fail("reserved_memory_mb", "reservations must not be negative");
        }
        Ok(())
    }
}
