//! Security-group filters of a node's ports: each port's addresses and
//! the rules that filter it. A rule admitting a remote group names the
//! group; the group's members' addresses travel once per node
//! ([`RemoteGroup`]), so a guest joining a group changes one list on each
//! node, not the rules of every port that admits the group.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Which way a rule filters, seen from the port's guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Into the guest.
    Ingress,
    /// Out of the guest.
    Egress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ethertype {
    IPv4,
    IPv6,
}

/// One allowing rule (security groups only allow; what no rule allows is
/// dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterRule {
    pub direction: Direction,
    pub ethertype: Ethertype,
    /// The IP protocol number; `None` is any.
    #[serde(default)]
    pub protocol: Option<u8>,
    /// TCP/UDP/SCTP/DCCP: the port range. ICMP: `port_min` is the type,
    /// `port_max` the code.
    #[serde(default)]
    pub port_min: Option<u16>,
    #[serde(default)]
    pub port_max: Option<u16>,
    /// Whom the rule admits: prefixes (`10.0.0.0/24`). Empty with
    /// `any_remote` false and no `remote_group` admits nobody.
    #[serde(default)]
    pub remote_prefixes: Vec<String>,
    #[serde(default = "yes")]
    pub any_remote: bool,
    /// A remote group: the rule admits its members' addresses of the
    /// rule's ethertype, as listed in the plan's `groups` (a group not
    /// listed has no members).
    #[serde(default)]
    pub remote_group: Option<String>,
}

/// A security group some rule on the node admits, with its members'
/// addresses (every port in the group, on any node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteGroup {
    pub group_id: String,
    #[serde(default)]
    pub addresses: Vec<IpAddr>,
}

fn yes() -> bool {
    true
}

/// An address (or prefix) and MAC a port may also send from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressPair {
    pub ip: String,
    pub mac: String,
}

/// A port on this node, as its filter needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortFilter {
    pub port_id: String,
    /// The host-side interface of the port (the guest's tap or veth).
    pub device: String,
    /// The network whose bridge the device belongs on (the agent plugs an
    /// existing device that is not on it; empty leaves it where it is).
    #[serde(default)]
    pub network_id: String,
    pub mac: String,
    pub fixed_ips: Vec<IpAddr>,
    #[serde(default)]
    pub allowed_address_pairs: Vec<AddressPair>,
    /// Without port security nothing is filtered or checked.
    pub port_security: bool,
    #[serde(default)]
    pub rules: Vec<FilterRule>,
}
