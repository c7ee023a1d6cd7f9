//! A port's addresses: which subnets and addresses a request means
//! (Neutron's rules: an address names its subnet, a subnet alone takes a
//! free address or, on a SLAAC subnet, the MAC's; no request takes one
//! IPv4 address, one stateful IPv6 address and every SLAAC address), and
//! taking them so that no address is ever handed out twice.

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;
use virga_common::Error;
use virga_db::sea_orm::ConnectionTrait;

use super::ipam;
use super::subnet::{is_auto_address, net_of, pools_of};
use crate::db::{ip_allocation, subnet};

/// One entry of a request's `fixed_ips`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpRequest {
    pub subnet_id: Option<String>,
    pub ip_address: Option<String>,
}

/// What the port is to hold: a subnet and, if chosen, the address.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Want {
    subnet: usize,
    ip: Option<IpAddr>,
}

fn bad(msg: String) -> Error {
    Error::BadRequest(format!("Invalid input for operation: {msg}."))
}

/// Resolves the requests against the network's subnets (in the order
/// they were made), without touching the store.
fn resolve(
    network_id: &str,
    subnets: &[(subnet::Model, IpNet)],
    mac: [u8; 6],
    requests: Option<&[IpRequest]>,
    router: bool,
) -> Result<Vec<Want>, Error> {
    // Every SLAAC subnet gives a (non-router) port its address, whatever
    // the request names; a router interface takes only what it names.
    let auto = |out: &mut Vec<Want>| {
        if !router {
            for w in defaults(subnets, mac) {
                if !out.iter().any(|o| o.subnet == w.subnet) {
                    out.push(w);
                }
            }
        }
    };
    let Some(requests) = requests else {
        let mut out = Vec::new();
        auto(&mut out);
        return Ok(out);
    };
    let mut out = Vec::new();
    for r in requests {
        let ip = match &r.ip_address {
            Some(raw) => Some(raw.parse::<IpAddr>().map_err(|_| {
                Error::BadRequest(format!(
                    "Invalid input for fixed_ips. Reason: '{raw}' is not a valid IP address."
                ))
            })?),
            None => None,
        };
        let index = match (&r.subnet_id, ip) {
            (Some(id), _) => subnets.iter().position(|(s, _)| &s.id == id).ok_or_else(|| {
                bad(format!(
                    "Failed to create port on network {network_id}, because fixed_ips included invalid subnet {id}"
                ))
            })?,
            (None, Some(a)) => subnets
                .iter()
                .position(|(_, n)| n.contains(&a))
                .ok_or_else(|| {
                    Error::BadRequest(format!(
                        "IP address {a} is not a valid IP for any of the subnets on the specified network."
                    ))
                })?,
            (None, None) => {
                return Err(bad("IP allocation requires subnet_id or ip_address".into()));
            }
        };
        let (s, net) = &subnets[index];
        let ip = match ip {
            Some(a) => {
                if !net.contains(&a) || !ipam::host_range(net).contains(ipam::to_int(a)) {
                    return Err(Error::BadRequest(format!(
                        "IP address {a} is not a valid IP for the specified subnet."
                    )));
                }
                if is_auto_address(s) {
                    return Err(bad(format!(
                        "IPv6 address {a} cannot be directly assigned to a port on subnet {} as the subnet is configured for automatic addresses",
                        s.id
                    )));
                }
                Some(a)
            }
            None if is_auto_address(s) => Some(ipam::eui64(net, mac)),
            None => None,
        };
        let w = Want { subnet: index, ip };
        if ip.is_some() && out.contains(&w) {
            return Err(Error::BadRequest(format!(
                "Invalid input for fixed_ips. Reason: Duplicate IP address '{}'.",
                ip.map(|a| a.to_string()).unwrap_or_default()
            )));
        }
        out.push(w);
    }
    auto(&mut out);
    Ok(out)
}

/// A port without `fixed_ips`: one IPv4 address, one stateful IPv6
/// address (each from the first subnet with room, tried in order) and the
/// SLAAC address on every SLAAC subnet.
fn defaults(subnets: &[(subnet::Model, IpNet)], mac: [u8; 6]) -> Vec<Want> {
    let mut out = Vec::new();
    for (i, (s, net)) in subnets.iter().enumerate() {
        if is_auto_address(s) {
            out.push(Want {
                subnet: i,
                ip: Some(ipam::eui64(net, mac)),
            });
        }
    }
    out
}

/// The subnets a default allocation tries, per IP version, in order.
fn default_pick_order(subnets: &[(subnet::Model, IpNet)]) -> [Vec<usize>; 2] {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for (i, (s, _)) in subnets.iter().enumerate() {
        match s.ip_version {
            4 => v4.push(i),
            _ if !is_auto_address(s) => v6.push(i),
            _ => {}
        }
    }
    [v4, v6]
}

/// Takes the port's addresses inside the caller's transaction; returns
/// (subnet id, address) pairs. A `router` port gets no SLAAC address it
/// did not name.
pub async fn take(
    db: &impl ConnectionTrait,
    network_id: &str,
    port_id: &str,
    mac: [u8; 6],
    requests: Option<&[IpRequest]>,
    keep: &[(String, String)],
    router: bool,
) -> Result<Vec<(String, String)>, Error> {
    let rows = subnet::of_network(db, network_id).await?;
    let subnets: Vec<(subnet::Model, IpNet)> = rows
        .into_iter()
        .map(|s| net_of(&s).map(|n| (s, n)))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    let wants = resolve(network_id, &subnets, mac, requests, router)?;
    for w in wants {
        let (s, _) = &subnets[w.subnet];
        // On update, a subnet or an address the port already holds stays.
        if let Some(k) = keep
            .iter()
            .find(|(sid, ip)| sid == &s.id && w.ip.is_none_or(|a| a.to_string() == *ip))
            && !out.contains(k)
        {
            out.push(k.clone());
            continue;
        }
        let ip = match w.ip {
            Some(a) => {
                let text = a.to_string();
                if !ip_allocation::take(db, network_id, &s.id, &text, port_id).await? {
                    return Err(super::coded(
                        "IpAddressAlreadyAllocated",
                        format!("IP address {text} already allocated in subnet {}", s.id),
                    ));
                }
                text
            }
            None => allocate(db, network_id, s, port_id)
                .await?
                .ok_or_else(|| exhausted(network_id))?,
        };
        out.push((s.id.clone(), ip));
    }
    if requests.is_none() {
        // One address per group, from the first subnet with room; a group
        // whose every subnet is full fails the port, as in Neutron.
        for order in default_pick_order(&subnets) {
            let mut taken = order.is_empty();
            for i in order {
                if let Some(ip) = allocate(db, network_id, &subnets[i].0, port_id).await? {
                    out.push((subnets[i].0.id.clone(), ip));
                    taken = true;
                    break;
                }
            }
            if !taken {
                return Err(exhausted(network_id));
            }
        }
    }
    Ok(out)
}

fn exhausted(network_id: &str) -> Error {
    super::coded(
        "IpAddressGenerationFailure",
        format!("No more IP addresses available on network {network_id}."),
    )
}

/// Small pools are read whole; in big ones random addresses are tried
/// first (concurrent creators then rarely reach for the same one), and
/// only when those keep failing is the whole subnet read. A try is the
/// insert itself: reading which candidates are free first would be a
/// second query per port, and one whose cached plan PostgreSQL may keep
/// from when the table was empty.
const SMALL_POOL: u128 = 1024;
const PROBES: usize = 16;

/// A free address of the subnet's pools, taken for the port; `None` when
/// the pools are full.
pub async fn allocate(
    db: &impl ConnectionTrait,
    network_id: &str,
    s: &subnet::Model,
    port_id: &str,
) -> Result<Option<String>, Error> {
    let pools = pools_of(s)?;
    let v = s.ip_version as u8;
    let total: u128 = pools
        .iter()
        .map(ipam::Pool::size)
        .fold(0, u128::saturating_add);
    if total > SMALL_POOL {
        for a in ipam::random_candidates(&pools, PROBES) {
            let c = ipam::from_int(a, v).to_string();
            if ip_allocation::take(db, network_id, &s.id, &c, port_id).await? {
                return Ok(Some(c));
            }
        }
    }
    // Read what is held and walk the pools; a concurrent taker may beat
    // us to a free address, so try several, then read again.
    for _ in 0..8 {
        let held: HashSet<u128> = ip_allocation::held(db, &s.id)
            .await?
            .iter()
            .filter_map(|a| a.parse::<IpAddr>().ok().map(ipam::to_int))
            .collect();
        let mut free = ipam::free_in_order(&pools, &held, PROBES);
        if free.is_empty() {
            return Ok(None);
        }
        // Start at a random one of the first few free addresses.
        let start = (getrandom::u32().unwrap_or(0) as usize) % free.len();
        free.rotate_left(start);
        for a in free {
            let text = ipam::from_int(a, v).to_string();
            if ip_allocation::take(db, network_id, &s.id, &text, port_id).await? {
                return Ok(Some(text));
            }
        }
    }
    Ok(None)
}

/// Of the addresses a port holds, those an update's requests still ask
/// for: the same address, or any address of a subnet named alone.
pub fn kept(held: &[(String, String)], requests: &[IpRequest]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut rest: Vec<&IpRequest> = Vec::new();
    for r in requests {
        match held.iter().find(|(s, ip)| {
            r.ip_address.as_deref() == Some(ip.as_str())
                && r.subnet_id.as_deref().is_none_or(|id| id == s)
        }) {
            Some(h) if !out.contains(h) => out.push(h.clone()),
            _ => rest.push(r),
        }
    }
    for r in rest {
        if r.ip_address.is_some() {
            continue;
        }
        if let Some(h) = held
            .iter()
            .find(|h| Some(h.0.as_str()) == r.subnet_id.as_deref() && !out.contains(h))
        {
            out.push(h.clone());
        }
    }
    out
}
