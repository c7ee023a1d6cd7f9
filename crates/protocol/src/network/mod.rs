//! The network data plane's desired state, as the network service computes
//! it for one node and the node's agent applies it: the node's segments and
//! bridges, DHCP servers and routers (`plan`), and the security-group
//! filters of its ports (`filter`). Each is the whole of that node's state,
//! so applying it twice changes nothing and applying a newer one removes
//! what it no longer holds.

mod filter;
mod plan;

pub use filter::*;
pub use plan::*;

/// The bridge a network's ports plug into on every node: what the network
/// service names in a bound port's `binding:vif_details.bridge_name` and
/// the node's agent creates (at most 14 characters, a Linux name).
pub fn bridge_name(network_id: &str) -> String {
    let short: String = network_id.chars().take(11).collect();
    format!("vbr{short}")
}
