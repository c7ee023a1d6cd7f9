//! A node's segments, DHCP servers and routers.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::{PortFilter, RemoteGroup};

/// Everything of the network one node carries, sent whole with a
/// generation (`AgentCommand::EnsureNetwork`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeNetwork {
    #[serde(default)]
    pub networks: Vec<NetworkPlan>,
    #[serde(default)]
    pub ports: Vec<PortFilter>,
    #[serde(default)]
    pub routers: Vec<RouterPlan>,
    /// The remote groups the ports' rules admit, by id.
    #[serde(default)]
    pub groups: Vec<RemoteGroup>,
}

/// How a network's frames leave the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Segment {
    /// An overlay: frames in VXLAN (UDP 4789) over the node's tunnel
    /// address; broadcast and unknown unicast go to every peer.
    Vxlan {
        vni: u32,
        /// The tunnel addresses of the other nodes on this network.
        #[serde(default)]
        peers: Vec<IpAddr>,
    },
    /// Tagged frames on a physical network's interface.
    Vlan {
        physical_network: String,
        vlan_id: u16,
    },
    /// Untagged frames on a physical network's interface.
    Flat { physical_network: String },
}

/// One network on this node: a bridge with its segment, and the DHCP
/// server when this node serves the network's DHCP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkPlan {
    pub network_id: String,
    pub segment: Segment,
    pub mtu: u32,
    #[serde(default)]
    pub dhcp: Option<DhcpPlan>,
}

/// A subnet's IPv6 address mode (Neutron's `ipv6_address_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ipv6Mode {
    Slaac,
    Dhcpv6Stateful,
    Dhcpv6Stateless,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRoute {
    pub destination: String,
    pub nexthop: IpAddr,
}

/// A subnet the DHCP server serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpSubnet {
    pub subnet_id: String,
    pub cidr: String,
    /// The DHCP port's own address on the subnet.
    pub address: IpAddr,
    #[serde(default)]
    pub gateway: Option<IpAddr>,
    #[serde(default)]
    pub dns_nameservers: Vec<IpAddr>,
    #[serde(default)]
    pub host_routes: Vec<HostRoute>,
    /// IPv6 only: how guests get addresses (router advertisements come
    /// from the subnet's router, or from the DHCP server when no router
    /// serves the subnet).
    #[serde(default)]
    pub ipv6_mode: Option<Ipv6Mode>,
}

/// A port the DHCP server answers: only its own addresses, to its MAC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpHost {
    pub mac: String,
    pub ips: Vec<IpAddr>,
    #[serde(default)]
    pub hostname: Option<String>,
}

/// The network's DHCP server: its port (`device_owner` `network:dhcp`),
/// the subnets with DHCP enabled and the ports it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpPlan {
    pub port_id: String,
    pub mac: String,
    pub subnets: Vec<DhcpSubnet>,
    #[serde(default)]
    pub hosts: Vec<DhcpHost>,
}

/// A router's leg on a network: its port's MAC and addresses with their
/// prefix length (`10.0.0.1/24`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterLeg {
    pub port_id: String,
    pub network_id: String,
    pub mac: String,
    pub addresses: Vec<String>,
    /// The IPv6 subnets the router advertises itself on as their default
    /// router (an interface, not the gateway leg).
    #[serde(default)]
    pub advertise: Vec<Advertised>,
}

/// An IPv6 subnet on a router interface, as its router advertisements
/// describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advertised {
    pub cidr: String,
    /// The subnet's `ipv6_ra_mode`: SLAAC and stateless DHCPv6 advertise
    /// the prefix for autoconfiguration, DHCPv6 set the managed / other
    /// flags; none advertises only the route.
    #[serde(default)]
    pub mode: Option<Ipv6Mode>,
    #[serde(default)]
    pub dns_nameservers: Vec<IpAddr>,
}

/// The external gateway: the leg on the external network, where its
/// default route goes, and whether the router masquerades the internal
/// networks behind the gateway address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterGateway {
    pub leg: RouterLeg,
    #[serde(default)]
    pub next_hops: Vec<IpAddr>,
    pub snat: bool,
}

/// A floating IP the router translates to a port's fixed address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloatingNat {
    pub floating_ip: IpAddr,
    pub fixed_ip: IpAddr,
}

/// A router this node runs (a network namespace with a leg per interface).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterPlan {
    pub router_id: String,
    #[serde(default)]
    pub gateway: Option<RouterGateway>,
    #[serde(default)]
    pub interfaces: Vec<RouterLeg>,
    #[serde(default)]
    pub floating_ips: Vec<FloatingNat>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentCommand;
    use crate::{from_parts, to_parts};

    #[test]
    fn a_plan_travels_in_ensure_network_and_omitted_lists_default() {
        let state = NodeNetwork {
            networks: vec![NetworkPlan {
                network_id: "n".into(),
                segment: Segment::Vlan {
                    physical_network: "physnet1".into(),
                    vlan_id: 100,
                },
                mtu: 1500,
                dhcp: None,
            }],
            ..NodeNetwork::default()
        };
        let cmd = AgentCommand::EnsureNetwork {
            request_id: "r".into(),
            generation: 9,
            state: Box::new(state),
        };
        let (method, args) = to_parts(&cmd);
        assert_eq!(method, "ensure_network");
        assert_eq!(args["state"]["networks"][0]["segment"]["type"], "vlan");
        assert_eq!(from_parts::<AgentCommand>(&method, args).unwrap(), cmd);
        let bare: NodeNetwork = serde_json::from_value(serde_json::json!({
            "networks": [{"network_id": "n", "mtu": 1450,
                          "segment": {"type": "vxlan", "vni": 5}}]
        }))
        .unwrap();
        assert_eq!(
            bare.networks[0].segment,
            Segment::Vxlan {
                vni: 5,
                peers: vec![]
            }
        );
        assert!(bare.ports.is_empty() && bare.routers.is_empty());
    }
}
