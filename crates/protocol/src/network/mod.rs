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
