//! Network interfaces with their MAC, MTU, state and IPv4 / IPv6
//! addresses. Addresses come from `getifaddrs` (no file lists IPv4
//! ones); the rest from `<sysfs>/class/net/<name>/`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{DiscoveryError, Roots, attr};

#[derive(Debug, Clone, PartialEq)]
pub struct Interface {
    pub name: String,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    /// The kernel's operstate: `up`, `down`, `unknown` (loopback, tun).
    pub state: Option<String>,
    /// Addresses with their prefix length.
    pub addresses: Vec<(IpAddr, u8)>,
}

pub(super) fn interfaces(roots: &Roots) -> Result<Vec<Interface>, DiscoveryError> {
    let mut by_name: BTreeMap<String, Vec<(IpAddr, u8)>> = BTreeMap::new();
    for ifa in nix::ifaddrs::getifaddrs().map_err(DiscoveryError::Interfaces)? {
        let entry = by_name.entry(ifa.interface_name.clone()).or_default();
        let Some(addr) = ifa.address else { continue };
        let prefix = |bits: u128| bits.count_ones() as u8;
        if let Some(v4) = addr.as_sockaddr_in() {
            let mask = ifa
                .netmask
                .and_then(|m| m.as_sockaddr_in().map(|m| u32::from(m.ip()) as u128));
            entry.push((IpAddr::V4(v4.ip()), mask.map_or(32, prefix)));
        } else if let Some(v6) = addr.as_sockaddr_in6() {
            let mask = ifa
                .netmask
                .and_then(|m| m.as_sockaddr_in6().map(|m| u128::from(m.ip())));
            entry.push((IpAddr::V6(v6.ip()), mask.map_or(128, prefix)));
        }
    }
    Ok(by_name
        .into_iter()
        .map(|(name, mut addresses)| {
            addresses.sort();
            addresses.dedup();
            let dir = roots.sys.join("class/net").join(&name);
            Interface {
                mac: attr(&dir.join("address")).filter(|m| !m.is_empty()),
                mtu: attr(&dir.join("mtu")).and_then(|m| m.parse().ok()),
                state: attr(&dir.join("operstate")),
                addresses,
                name,
            }
        })
        .collect())
}
