//! Names of the devices and namespaces the data plane makes. A device name
//! holds 15 bytes, so each is a three-letter role and the first 11
//! characters of the network's or port's id (Neutron's convention); the
//! roles also tell the agent which devices are its own to remove.

use super::host::NetplaneError;

/// The id's first 11 characters, after checking it holds only what ids
/// hold (names end up in commands and dnsmasq configuration lines).
pub fn short(id: &str) -> Result<&str, NetplaneError> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(NetplaneError::Plan(format!("{id:?} is not a usable id")));
    }
    Ok(&id[..id.len().min(11)])
}

/// A network's bridge.
pub fn bridge(network_id: &str) -> Result<String, NetplaneError> {
    Ok(virga_protocol::network::bridge_name(short(network_id)?))
}

/// A network's VXLAN device.
pub fn vxlan(network_id: &str) -> Result<String, NetplaneError> {
    Ok(format!("vvx{}", short(network_id)?))
}

/// A network's VLAN device on its physical interface.
pub fn vlan(network_id: &str) -> Result<String, NetplaneError> {
    Ok(format!("vvl{}", short(network_id)?))
}

/// The node side of the veth to a DHCP server's namespace.
pub fn dhcp_outer(port_id: &str) -> Result<String, NetplaneError> {
    Ok(format!("vdh{}", short(port_id)?))
}

/// The DHCP server's side of that veth.
pub fn dhcp_inner(port_id: &str) -> Result<String, NetplaneError> {
    Ok(format!("ns-{}", short(port_id)?))
}

/// The node side of the veth to a router's leg.
pub fn router_outer(port_id: &str) -> Result<String, NetplaneError> {
    Ok(format!("vqr{}", short(port_id)?))
}

/// The router's side: `qg-` on the external network, `qr-` inside.
pub fn router_inner(port_id: &str, gateway: bool) -> Result<String, NetplaneError> {
    let role = if gateway { "qg-" } else { "qr-" };
    Ok(format!("{role}{}", short(port_id)?))
}

/// A network's DHCP namespace.
pub fn dhcp_namespace(prefix: &str, network_id: &str) -> Result<String, NetplaneError> {
    short(network_id)?;
    Ok(format!("{prefix}dhcp-{network_id}"))
}

/// A router's namespace.
pub fn router_namespace(prefix: &str, router_id: &str) -> Result<String, NetplaneError> {
    short(router_id)?;
    Ok(format!("{prefix}router-{router_id}"))
}
