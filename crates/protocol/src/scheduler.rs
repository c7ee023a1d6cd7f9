//! Agents' messages to the scheduler, and the scheduler's events about
//! nodes.
//!
//! An agent starts by registering its node ([`NodeCall::Register`], a call
//! on [`TOPIC`]): what it detected (inventories, traits, devices) and what
//! its configuration says (site, kind, labels). Registering is a desired
//! state: sending it again changes only what changed, so an agent
//! re-registers at every start and whenever its hardware changes. Then it
//! casts [`NodeCall::Heartbeat`] every few seconds. A node silent past
//! `scheduler.node_stale_secs` is reported down ([`NodeEvent::Down`]) and
//! not scheduled until heard again ([`NodeEvent::Up`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Message;

/// os-traits' standard traits (the vocabulary the scheduler accepts besides
/// `CUSTOM_*`), sorted; agents report only these.
pub fn standard_traits() -> impl Iterator<Item = &'static str> {
    include_str!("standard_traits.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// The topic the scheduler serves agents' calls and casts on.
pub const TOPIC: &str = "scheduler";

/// The site a node belongs to, from the agent's configuration; the first
/// node of a site creates it (auto-discovery, no manual step).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteRef {
    pub name: String,
    /// `idc`, `mec`, `aio` or `gateway`.
    pub kind: String,
    pub region: String,
}

/// One resource class's inventory, with Placement's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryReport {
    pub total: i64,
    #[serde(default)]
    pub reserved: i64,
    #[serde(default = "one")]
    pub min_unit: i64,
    #[serde(default = "max_int")]
    pub max_unit: i64,
    #[serde(default = "one")]
    pub step_size: i64,
    #[serde(default = "ratio")]
    pub allocation_ratio: f64,
}

fn one() -> i64 {
    1
}

fn max_int() -> i64 {
    2_147_483_647
}

fn ratio() -> f64 {
    1.0
}

/// A device (GPU, FPGA, ...) the node has: a child provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceReport {
    /// Unique on the node, stable across restarts (e.g. its PCI address).
    pub name: String,
    pub inventories: BTreeMap<String, InventoryReport>,
    #[serde(default)]
    pub traits: BTreeSet<String>,
}

/// What the agent found on its host beyond the scheduler's inventories:
/// shown to operators with the node, never scheduled on (yet).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    #[serde(default)]
    pub cpu_model: String,
    #[serde(default)]
    pub cpu_sockets: u32,
    /// NUMA nodes: `{id, cpus, memory_mb}`.
    #[serde(default)]
    pub numa: Vec<serde_json::Value>,
    /// Accelerators: `{address, kind, vendor, device, numa_node}`.
    #[serde(default)]
    pub accelerators: Vec<serde_json::Value>,
    /// Network interfaces: `{name, mac, mtu, state, addresses: ["ip/prefix"]}`.
    #[serde(default)]
    pub interfaces: Vec<serde_json::Value>,
    /// The hypervisor driver (`libvirt`, `simulated`) and what it runs
    /// (`kvm`, `qemu`).
    #[serde(default)]
    pub driver: String,
    #[serde(default)]
    pub domain_types: Vec<String>,
    #[serde(default)]
    pub agent_version: String,
}

/// Agents' messages on [`TOPIC`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum NodeCall {
    /// A call, from an agent at start and when what it detected changes;
    /// answered with [`Registered`], or an error naming what was refused
    /// (an unknown resource class or trait, a node registered at another
    /// site, a device removed while allocated).
    Register {
        node: String,
        site: SiteRef,
        hostname: String,
        kind: String,
        /// `x86_64` or `aarch64`.
        arch: String,
        #[serde(default)]
        labels: BTreeMap<String, String>,
        inventories: BTreeMap<String, InventoryReport>,
        #[serde(default)]
        traits: BTreeSet<String>,
        #[serde(default)]
        devices: Vec<DeviceReport>,
        /// Absent from agents older than this field.
        #[serde(default)]
        facts: Option<Box<HostFacts>>,
    },
    /// A cast, from a registered node's agent every heartbeat interval:
    /// its load and what its image cache holds (for image locality).
    Heartbeat {
        node: String,
        #[serde(default)]
        load: serde_json::Value,
        #[serde(default)]
        images: Vec<String>,
        #[serde(default)]
        layers: Vec<String>,
    },
}

impl Message for NodeCall {
    fn method(&self) -> &'static str {
        match self {
            NodeCall::Register { .. } => "register",
            NodeCall::Heartbeat { .. } => "heartbeat",
        }
    }
}

/// The reply to [`NodeCall::Register`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registered {
    pub node: String,
    pub site: String,
}

/// Events the scheduler publishes about nodes (notify).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args")]
pub enum NodeEvent {
    /// A node was silent past `scheduler.node_stale_secs`: it is no longer
    /// scheduled (alarms and operators listen).
    #[serde(rename = "scheduler.node.down")]
    Down {
        node: String,
        hostname: String,
        site: String,
    },
    /// A node reported down was heard again.
    #[serde(rename = "scheduler.node.up")]
    Up {
        node: String,
        hostname: String,
        site: String,
    },
}

/// The pattern that subscribes to every [`NodeEvent`].
pub const EVENTS: &str = "scheduler.#";

impl Message for NodeEvent {
    fn method(&self) -> &'static str {
        match self {
            NodeEvent::Down { .. } => "scheduler.node.down",
            NodeEvent::Up { .. } => "scheduler.node.up",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_parts, to_parts};

    #[test]
    fn defaults_and_round_trip() {
        let args = serde_json::json!({"node": "n", "site": {"name": "s", "kind": "mec", "region": "r"},
            "hostname": "h", "kind": "mec", "arch": "x86_64", "inventories": {"VCPU": {"total": 4}}});
        let NodeCall::Register {
            inventories,
            devices,
            ..
        } = from_parts::<NodeCall>("register", args).unwrap()
        else {
            panic!("a register");
        };
        assert_eq!(inventories["VCPU"].max_unit, 2_147_483_647);
        assert_eq!(inventories["VCPU"].allocation_ratio, 1.0);
        assert!(devices.is_empty());
        let hb = NodeCall::Heartbeat {
            node: "n".into(),
            load: serde_json::json!({}),
            images: vec![],
            layers: vec![],
        };
        let (m, a) = to_parts(&hb);
        assert_eq!(from_parts::<NodeCall>(&m, a).unwrap(), hb);
        assert!(from_parts::<NodeCall>("reboot", serde_json::json!({})).is_err());
    }
}
