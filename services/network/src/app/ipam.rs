//! Address arithmetic for subnets: CIDRs, default gateways and allocation
//! pools, pool checks, the SLAAC (EUI-64) address of a MAC, and choosing a
//! free address. Pure: the store decides, by its unique key, whether an
//! address chosen here is really free.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// An inclusive range of addresses of one IP version, as integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub start: u128,
    pub end: u128,
}

impl Pool {
    pub fn size(&self) -> u128 {
        self.end - self.start + 1
    }

    pub fn contains(&self, a: u128) -> bool {
        self.start <= a && a <= self.end
    }
}

pub fn to_int(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

pub fn from_int(v: u128, version: u8) -> IpAddr {
    if version == 4 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

pub fn version(a: IpAddr) -> u8 {
    if a.is_ipv4() { 4 } else { 6 }
}

/// A subnet's CIDR, host bits masked (`10.0.0.1/24` is `10.0.0.0/24`,
/// as Neutron stores it); a prefix of 0 is refused.
pub fn parse_cidr(raw: &str) -> Result<IpNet, String> {
    let net: IpNet = raw
        .parse()
        .map_err(|_| format!("'{raw}' is not a valid IP subnet"))?;
    if net.prefix_len() == 0 {
        return Err("0 is not allowed as CIDR prefix length".into());
    }
    Ok(net.trunc())
}

/// The addresses of `net` a host may have: IPv4 without its network and
/// broadcast addresses (a /31 or /32 keeps all), IPv6 without the
/// subnet-router anycast address (the first).
pub fn host_range(net: &IpNet) -> Pool {
    let first = to_int(net.network());
    let last = to_int(net.broadcast());
    match net {
        IpNet::V4(n) if n.prefix_len() >= 31 => Pool {
            start: first,
            end: last,
        },
        IpNet::V4(_) => Pool {
            start: first + 1,
            end: last - 1,
        },
        IpNet::V6(n) if n.prefix_len() == 128 => Pool {
            start: first,
            end: last,
        },
        IpNet::V6(_) => Pool {
            start: first + 1,
            end: last,
        },
    }
}

/// The default gateway, as Neutron picks it: IPv4's first host address,
/// IPv6's network (subnet-router anycast) address.
pub fn default_gateway(net: &IpNet) -> Option<IpAddr> {
    match net {
        IpNet::V6(_) => Some(net.network()),
        IpNet::V4(_) => {
            let r = host_range(net);
            (r.size() > 1).then(|| from_int(r.start, 4))
        }
    }
}

/// The default pools: the host range without the gateway.
pub fn default_pools(net: &IpNet, gateway: Option<IpAddr>) -> Vec<Pool> {
    let r = host_range(net);
    match gateway.map(to_int).filter(|g| r.contains(*g)) {
        None => vec![r],
        Some(g) => {
            let mut out = Vec::new();
            if g > r.start {
                out.push(Pool {
                    start: r.start,
                    end: g - 1,
                });
            }
            if g < r.end {
                out.push(Pool {
                    start: g + 1,
                    end: r.end,
                });
            }
            out
        }
    }
}

/// Why a set of pools is refused, in Neutron's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
    /// Start after end, or of the other IP version.
    Invalid(String),
    OutOfBounds {
        pool: String,
        cidr: String,
    },
    Overlapping(String, String),
    Gateway {
        gateway: String,
        pool: String,
    },
}

pub fn show(p: &Pool, version: u8) -> String {
    format!(
        "{}-{}",
        from_int(p.start, version),
        from_int(p.end, version)
    )
}

/// Checks pools against their subnet and gateway: each inside the host
/// range, none overlapping another, none holding the gateway.
pub fn check_pools(net: &IpNet, pools: &[Pool], gateway: Option<IpAddr>) -> Result<(), PoolError> {
    let v = version(net.addr());
    let hosts = host_range(net);
    for p in pools {
        if p.start > p.end {
            return Err(PoolError::Invalid(show(p, v)));
        }
        if !hosts.contains(p.start) || !hosts.contains(p.end) {
            return Err(PoolError::OutOfBounds {
                pool: show(p, v),
                cidr: net.to_string(),
            });
        }
    }
    let mut sorted = pools.to_vec();
    sorted.sort_by_key(|p| p.start);
    for w in sorted.windows(2) {
        if w[1].start <= w[0].end {
            return Err(PoolError::Overlapping(show(&w[0], v), show(&w[1], v)));
        }
    }
    if let Some(g) = gateway
        && let Some(p) = pools.iter().find(|p| p.contains(to_int(g)))
    {
        return Err(PoolError::Gateway {
            gateway: g.to_string(),
            pool: show(p, v),
        });
    }
    Ok(())
}

/// The SLAAC address of a MAC in a /64 (modified EUI-64, RFC 4291).
pub fn eui64(net: &IpNet, mac: [u8; 6]) -> IpAddr {
    let iid = virga_common::mac::eui64_interface_id(mac);
    let prefix = to_int(net.network()) & !(u64::MAX as u128);
    from_int(prefix | iid as u128, 6)
}

fn random_u128() -> u128 {
    let hi = getrandom::u64().unwrap_or(0) as u128;
    let lo = getrandom::u64().unwrap_or(0) as u128;
    (hi << 64) | lo
}

/// `n` addresses drawn at random from the pools, each pool weighted by its
/// size: concurrent creators then rarely reach for the same address.
pub fn random_candidates(pools: &[Pool], n: usize) -> Vec<u128> {
    let total: u128 = pools.iter().map(Pool::size).fold(0, u128::saturating_add);
    if total == 0 {
        return Vec::new();
    }
    (0..n)
        .map(|_| {
            let mut k = random_u128() % total;
            for p in pools {
                if k < p.size() {
                    return p.start + k;
                }
                k -= p.size();
            }
            pools[0].start
        })
        .collect()
}

/// Up to `n` addresses of the pools not in `taken`, in order; stops after
/// `taken.len() + n` steps, so it is cheap however big the pools are.
pub fn free_in_order(pools: &[Pool], taken: &HashSet<u128>, n: usize) -> Vec<u128> {
    let mut out = Vec::new();
    for p in pools {
        let mut a = p.start;
        loop {
            if !taken.contains(&a) {
                out.push(a);
                if out.len() == n {
                    return out;
                }
            }
            if a == p.end {
                break;
            }
            a += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests;
