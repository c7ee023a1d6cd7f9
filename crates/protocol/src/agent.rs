//! The centre's commands to an edge agent, and the agent's reports.
//!
//! Commands go to the agent's own durable queue ([`topic`]), so they wait
//! for an agent that is restarting or cut off. Each names one instance and
//! carries that instance's **generation**: the centre bumps it with every
//! change it wants, and the agent applies a command only when its
//! generation is newer than the one its ledger holds. A redelivered or
//! duplicated command therefore changes nothing, and a late one never
//! undoes a newer one (the agent logs and drops it).
//!
//! [`AgentCommand::Ensure`] is a desired state, not a step: the whole spec
//! and whether it should run. The agent's reconcile loop keeps the host
//! matching it, also while the centre is unreachable.
//!
//! Reports travel as events ([`AgentEvent`], notify): a state change of one
//! instance, and a full report of every instance at start, on reconnect and
//! on request, from which the centre reconciles its records.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Message;
use crate::network::NodeNetwork;

/// The durable queue of one node's agent: `agent.<node uuid>`.
pub fn topic(node: &str) -> String {
    format!("agent.{node}")
}

/// The pattern that subscribes to every [`AgentEvent`].
pub const EVENTS: &str = "agent.#";

/// The image an instance boots from, as the node's image cache knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRef {
    /// The image service's id.
    pub id: String,
    /// `qcow2`, `raw` or `iso` (VM images); containers come later.
    pub disk_format: String,
    /// The content's sha256 (Glance's `os_hash_value`): what the cache keys on.
    #[serde(default)]
    pub sha256: Option<String>,
    /// `x86_64` or `aarch64` when the image says (Glance's `architecture`).
    #[serde(default)]
    pub arch: Option<String>,
    /// The content's size in bytes; with `sha256` and `sources` the node
    /// fetches the image into its cache when it does not hold it.
    #[serde(default)]
    pub size: Option<u64>,
    /// Where the image can be fetched (the image service's locations):
    /// the agent tries its own site's store first and the central store
    /// last. Empty: the image must already be on the node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<ImageSource>,
}

impl ImageRef {
    /// An image named only by id: the node must hold it already (an
    /// operator's file in `_base`); nothing to verify or fetch it by.
    pub fn held(id: impl Into<String>, disk_format: impl Into<String>) -> ImageRef {
        ImageRef {
            id: id.into(),
            disk_format: disk_format.into(),
            sha256: None,
            arch: None,
            size: None,
            sources: vec![],
        }
    }
}

/// One place an image's data can be read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSource {
    /// The image store's id (an edge site's store is named after its
    /// site; the central store has the image service's `store_id`).
    pub store: String,
    /// `http(s)://` (a signed URL of the image service, or a site's store
    /// served over HTTP) or `file://` (a site's storage mounted on the node).
    pub url: String,
}

/// One network port of an instance (the network service fills these in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortSpec {
    pub id: String,
    pub mac: String,
    /// The host device the port plugs into (a bridge), when known.
    #[serde(default)]
    pub bridge: Option<String>,
}

/// The guest's host name from its name, as Nova derives one: lower case
/// letters, digits and hyphens, at most 63 characters. Compute shows it
/// (`OS-EXT-SRV-ATTR:hostname`), the node's config drive gives it.
pub fn hostname(name: &str) -> String {
    let mut h: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    h = h.trim_matches('-').to_owned();
    h.truncate(63);
    let h = h.trim_end_matches('-').to_owned();
    if h.is_empty() { "instance".into() } else { h }
}

/// Everything a node needs to run one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceSpec {
    pub uuid: String,
    pub name: String,
    pub vcpus: u32,
    pub memory_mb: u64,
    /// The root disk's size; 0 keeps the image's own size.
    #[serde(default)]
    pub disk_gb: u64,
    pub image: ImageRef,
    #[serde(default)]
    pub ports: Vec<PortSpec>,
    /// The instance's metadata, given to the guest (config drive / SMBIOS).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Base64 user data for cloud-init-style guests.
    #[serde(default)]
    pub user_data: Option<String>,
    /// Bumped by each rebuild the centre asks for: the node makes the root
    /// disk afresh when this or the image changes (a rebuild may keep the
    /// image).
    #[serde(default)]
    pub build: u64,
}

impl InstanceSpec {
    /// What the guest's root disk was made from: a change is a rebuild.
    pub fn build_key(&self) -> String {
        match self.build {
            0 => self.image.id.clone(),
            n => format!("{}#{n}", self.image.id),
        }
    }
}

/// Whether an instance should be running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Power {
    Running,
    Stopped,
    /// Running but its CPUs halted, memory kept (drivers that can).
    Paused,
}

/// What an instance is on its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceState {
    /// Being created (image, disk, domain).
    Building,
    Running,
    /// Defined but not running (shut down, or never started).
    Stopped,
    Paused,
    /// It stopped without being asked (guest crash, power-off inside the
    /// guest, host reboot); the reconcile loop restarts it if it should run.
    Crashed,
    /// The node cannot run it as asked; `reason` says why.
    Error,
    /// Gone from the node.
    Deleted,
}

/// Commands to one agent, on its queue [`topic`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum AgentCommand {
    /// A cast: the instance should exist with `spec` and be `power`. Creates
    /// it, starts or stops it, or rebuilds it when the image changed.
    Ensure {
        request_id: String,
        generation: u64,
        spec: Box<InstanceSpec>,
        power: Power,
    },
    /// A cast: reboot the instance (soft asks the guest and falls back to
    /// hard after the agent's stop timeout).
    Reboot {
        request_id: String,
        instance: String,
        generation: u64,
        hard: bool,
    },
    /// A cast: destroy the instance and its local disks, and forget it.
    Delete {
        request_id: String,
        instance: String,
        generation: u64,
    },
    /// A cast: publish a full [`AgentEvent::Report`] now.
    Report { request_id: String },
    /// A cast: fetch the image into the node's cache before any instance
    /// needs it (pre-fetch); answered by [`AgentEvent::Image`].
    FetchImage { request_id: String, image: ImageRef },
    /// A cast: the node's whole network data plane (bridges and segments,
    /// DHCP servers, routers, port filters) should be `state`; kept in the
    /// ledger and applied when `generation` is newer than the one held,
    /// answered by [`AgentEvent::Network`].
    EnsureNetwork {
        request_id: String,
        generation: u64,
        state: Box<NodeNetwork>,
    },
    /// A cast: write the stopped instance's root disk, whole (its image
    /// folded in: a standalone `disk_format` file), to `url` by HTTP `PUT`
    /// (a signed upload URL of the image service); answered by
    /// [`AgentEvent::DiskExported`]. How a server's disk leaves its node
    /// for a resize or migration: the target node builds from the image.
    ExportDisk {
        request_id: String,
        instance: String,
        url: String,
        /// `qcow2` (VM drivers) or `raw` (the simulated driver).
        disk_format: String,
    },
    /// A call: send the instance a non-maskable interrupt, which a guest
    /// set up for it answers with a crash dump (compute's
    /// `trigger_crash_dump`); answered with `null`, or the error
    /// `Unsupported` from a driver that cannot.
    InjectNmi { instance: String },
    /// A call: the tail of the instance's serial console log, answered with
    /// [`ConsoleLog`].
    ConsoleLog {
        instance: String,
        /// At most this many bytes from the end (default 64 KiB).
        #[serde(default)]
        max_bytes: Option<u64>,
    },
}

impl Message for AgentCommand {
    fn method(&self) -> &'static str {
        match self {
            AgentCommand::Ensure { .. } => "ensure",
            AgentCommand::Reboot { .. } => "reboot",
            AgentCommand::Delete { .. } => "delete",
            AgentCommand::Report { .. } => "report",
            AgentCommand::FetchImage { .. } => "fetch_image",
            AgentCommand::EnsureNetwork { .. } => "ensure_network",
            AgentCommand::ConsoleLog { .. } => "console_log",
            AgentCommand::InjectNmi { .. } => "inject_nmi",
            AgentCommand::ExportDisk { .. } => "export_disk",
        }
    }
}

/// The reply to [`AgentCommand::ConsoleLog`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsoleLog {
    pub instance: String,
    pub output: String,
}

/// One instance in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub instance: String,
    /// The generation of the last command applied.
    pub generation: u64,
    pub state: InstanceState,
    /// Why it is in `error`, or what the last failure was.
    #[serde(default)]
    pub reason: Option<String>,
    /// The node could not do what `generation` asks of the instance it has
    /// (a start, stop, pause the driver refused): `reason` says why; the
    /// node retries on its next passes.
    #[serde(default)]
    pub failed: bool,
}

/// What agents publish (notify).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args")]
pub enum AgentEvent {
    /// One instance changed state, or a command for it failed (`error`
    /// with a reason). `request_id` names the command that caused it, if one did.
    #[serde(rename = "agent.instance.state")]
    InstanceState {
        node: String,
        #[serde(flatten)]
        status: InstanceStatus,
        #[serde(default)]
        request_id: Option<String>,
        at: DateTime<Utc>,
    },
    /// Every instance the agent keeps, at start, on reconnect and on
    /// request. `unmanaged` lists guests the hypervisor runs that the
    /// ledger does not know: reported, never destroyed.
    #[serde(rename = "agent.report")]
    Report {
        node: String,
        instances: Vec<InstanceStatus>,
        #[serde(default)]
        unmanaged: Vec<String>,
        at: DateTime<Utc>,
    },
    /// The outcome of a [`AgentCommand::FetchImage`]: `held` when the node
    /// has the image (verified), else `reason` says why not.
    #[serde(rename = "agent.image")]
    Image {
        node: String,
        image: String,
        held: bool,
        #[serde(default)]
        reason: Option<String>,
        request_id: String,
        at: DateTime<Utc>,
    },
    /// The outcome of an [`AgentCommand::ExportDisk`]: the disk was
    /// uploaded, else `reason` says why not (the instance runs, is not on
    /// this node, the upload was refused).
    #[serde(rename = "agent.disk.exported")]
    DiskExported {
        node: String,
        instance: String,
        request_id: String,
        #[serde(default)]
        reason: Option<String>,
        at: DateTime<Utc>,
    },
    /// How applying the network plan of `generation` went: after an
    /// [`AgentCommand::EnsureNetwork`] (with its `request_id`), and when a
    /// reconcile pass's outcome differs from the last one reported; at
    /// start also without a plan (generation 0), so the network service
    /// learns the node's tunnel address and physical networks. `errors` is
    /// empty when the node matches the plan.
    #[serde(rename = "agent.network")]
    Network {
        node: String,
        generation: u64,
        #[serde(default)]
        errors: Vec<String>,
        /// The node's VXLAN tunnel address, if it has one.
        #[serde(default)]
        tunnel_ip: Option<std::net::IpAddr>,
        /// The physical networks the node has an interface on.
        #[serde(default)]
        physical_networks: Vec<String>,
        #[serde(default)]
        request_id: Option<String>,
        at: DateTime<Utc>,
    },
}

impl Message for AgentEvent {
    fn method(&self) -> &'static str {
        match self {
            AgentEvent::InstanceState { .. } => "agent.instance.state",
            AgentEvent::Report { .. } => "agent.report",
            AgentEvent::Image { .. } => "agent.image",
            AgentEvent::Network { .. } => "agent.network",
            AgentEvent::DiskExported { .. } => "agent.disk.exported",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_parts, to_parts};

    #[test]
    fn commands_and_events_round_trip() {
        let ensure = AgentCommand::Ensure {
            request_id: "req-1".into(),
            generation: 3,
            spec: Box::new(InstanceSpec {
                uuid: "i".into(),
                name: "vm".into(),
                vcpus: 1,
                memory_mb: 128,
                disk_gb: 0,
                image: ImageRef::held("img", "qcow2"),
                ports: vec![],
                metadata: BTreeMap::new(),
                user_data: None,
                build: 0,
            }),
            power: Power::Running,
        };
        let (m, a) = to_parts(&ensure);
        assert_eq!(m, "ensure");
        assert_eq!(a["power"], "running");
        assert_eq!(from_parts::<AgentCommand>(&m, a).unwrap(), ensure);

        let ev = AgentEvent::InstanceState {
            node: "n".into(),
            status: InstanceStatus {
                instance: "i".into(),
                generation: 3,
                state: InstanceState::Error,
                reason: Some("arch".into()),
                failed: false,
            },
            request_id: None,
            at: Utc::now(),
        };
        let (m, a) = to_parts(&ev);
        assert_eq!(m, "agent.instance.state");
        assert_eq!(a["state"], "error");
        assert_eq!(from_parts::<AgentEvent>(&m, a).unwrap(), ev);
    }

    #[test]
    fn a_disk_export_and_its_answer_round_trip() {
        let cmd = AgentCommand::ExportDisk {
            request_id: "req-2".into(),
            instance: "i".into(),
            url: "http://centre/v2/images/m/signed-file?expires=1&signature=ab".into(),
            disk_format: "qcow2".into(),
        };
        let (m, a) = to_parts(&cmd);
        assert_eq!(m, "export_disk");
        assert_eq!(from_parts::<AgentCommand>(&m, a).unwrap(), cmd);
        let ev = AgentEvent::DiskExported {
            node: "n".into(),
            instance: "i".into(),
            request_id: "req-2".into(),
            reason: None,
            at: Utc::now(),
        };
        let (m, a) = to_parts(&ev);
        assert_eq!(m, "agent.disk.exported");
        assert!(a.get("reason").is_some_and(|r| r.is_null()));
        assert_eq!(from_parts::<AgentEvent>(&m, a).unwrap(), ev);
    }

    #[test]
    fn optional_fields_default() {
        let args = serde_json::json!({"instance": "i"});
        assert_eq!(
            from_parts::<AgentCommand>("console_log", args).unwrap(),
            AgentCommand::ConsoleLog {
                instance: "i".into(),
                max_bytes: None
            }
        );
        assert!(from_parts::<AgentCommand>("format_disk", serde_json::json!({})).is_err());
    }

    #[test]
    fn host_names_are_derived_as_nova_does() {
        assert_eq!(hostname("Web Server #1"), "web-server--1");
        assert_eq!(hostname("--x--"), "x");
        assert_eq!(hostname("***"), "instance");
        assert_eq!(hostname(&"a".repeat(80)).len(), 63);
    }
}
