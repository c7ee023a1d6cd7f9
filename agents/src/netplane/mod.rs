//! The node's network data plane. For now: the nftables ruleset that
//! filters the node's ports by their security groups (`nft`), built from
//! the desired state the network service sends
//! (`virga_protocol::network::PortFilter`).

pub mod nft;

#[cfg(test)]
mod tests;
