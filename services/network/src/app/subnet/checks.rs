//! The checks on a subnet's attributes, in Neutron's words: its
//! gateway, allocation pools, DNS servers, host routes and IPv6 modes,
//! and the JSON the lists are stored as.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;

use super::{Gateway, NewSubnet, bad, ip};
use crate::app::ipam::{self, Pool, PoolError};

/// The pools, DNS servers and host routes, checked, as stored JSON.
pub(super) struct Lists {
    pub pools: String,
    pub dns: String,
    pub routes: String,
}

pub(super) fn check_pools(
    net: &IpNet,
    raw: &[(String, String)],
    gw: Option<IpAddr>,
) -> Result<Vec<Pool>, Error> {
    let v = ipam::version(net.addr());
    let mut pools = Vec::new();
    for (s, e) in raw {
        let (a, b) = (ip("allocation_pools", s)?, ip("allocation_pools", e)?);
        if ipam::version(a) != v || ipam::version(b) != v {
            return Err(Error::BadRequest(format!(
                "The allocation pool {s}-{e} is not valid."
            )));
        }
        pools.push(Pool {
            start: ipam::to_int(a),
            end: ipam::to_int(b),
        });
    }
    ipam::check_pools(net, &pools, gw).map_err(|e| match e {
        PoolError::Invalid(p) => {
            let (s, e) = p.split_once('-').unwrap_or((&p, ""));
            Error::BadRequest(format!(
                "The allocation pool {{'start': '{s}', 'end': '{e}'}} is not valid."
            ))
        }
        PoolError::OutOfBounds { pool, cidr } => Error::BadRequest(format!(
            "The allocation pool {pool} spans beyond the subnet cidr {cidr}."
        )),
        PoolError::Overlapping(a, b) => crate::app::coded(
            "OverlappingAllocationPools",
            format!("Found overlapping allocation pools: {a} {b} for subnet {net}."),
        ),
        PoolError::Gateway { gateway, pool } => crate::app::coded(
            "GatewayConflictWithAllocationPools",
            format!("Gateway ip {gateway} conflicts with allocation pool {pool}."),
        ),
    })?;
    Ok(pools)
}

pub(super) fn pools_json(pools: &[Pool], v: u8) -> String {
    let list: Vec<Value> = pools
        .iter()
        .map(|p| json!({"start": ipam::from_int(p.start, v).to_string(), "end": ipam::from_int(p.end, v).to_string()}))
        .collect();
    Value::Array(list).to_string()
}

pub(super) fn check_dns(
    ctx: &ServiceContext,
    id: &str,
    raw: &[String],
    v: u8,
) -> Result<String, Error> {
    let max = ctx.config().network.max_dns_nameservers;
    if raw.len() > max {
        return Err(Error::BadRequest(format!(
            "Unable to complete operation for {id}. The number of DNS nameservers exceeds the limit {max}."
        )));
    }
    let mut seen = Vec::new();
    for s in raw {
        let a = ip("dns_nameservers", s)?;
        if ipam::version(a) != v {
            return Err(bad(format!(
                "dns_nameserver '{s}' does not match the ip_version '{v}'"
            )));
        }
        if seen.contains(&a) {
            return Err(Error::BadRequest(format!(
                "Invalid input for dns_nameservers. Reason: Duplicate nameserver '{s}'."
            )));
        }
        seen.push(a);
    }
    Ok(Value::from(seen.iter().map(|a| a.to_string()).collect::<Vec<_>>()).to_string())
}

pub(super) fn check_routes(
    ctx: &ServiceContext,
    id: &str,
    raw: &[(String, String)],
    v: u8,
) -> Result<String, Error> {
    let max = ctx.config().network.max_subnet_host_routes;
    if raw.len() > max {
        return Err(Error::BadRequest(format!(
            "Unable to complete operation for {id}. The number of host routes exceeds the limit {max}."
        )));
    }
    let mut out: Vec<(IpNet, IpAddr)> = Vec::new();
    for (d, n) in raw {
        let dest: IpNet = d.parse().map_err(|_| {
            Error::BadRequest(format!(
                "Invalid input for host_routes. Reason: '{d}' is not a valid IP subnet."
            ))
        })?;
        let hop = ip("host_routes", n)?;
        if ipam::version(dest.addr()) != v || ipam::version(hop) != v {
            return Err(bad(format!(
                "nexthop '{n}' does not match the ip_version '{v}'"
            )));
        }
        let r = (dest.trunc(), hop);
        if out.contains(&r) {
            return Err(Error::BadRequest(format!(
                "Invalid input for host_routes. Reason: Duplicate hostroute '{{'destination': '{d}', 'nexthop': '{n}'}}'."
            )));
        }
        out.push(r);
    }
    let list: Vec<Value> = out
        .iter()
        .map(|(d, n)| json!({"destination": d.to_string(), "nexthop": n.to_string()}))
        .collect();
    Ok(Value::Array(list).to_string())
}

/// The gateway of a CIDR: the default, none, or a given address that
/// must be a host address of the CIDR.
pub(super) fn gateway(net: &IpNet, g: &Gateway) -> Result<Option<IpAddr>, Error> {
    match g {
        Gateway::Default => Ok(ipam::default_gateway(net)),
        Gateway::None => Ok(None),
        Gateway::Given(raw) => {
            let a = ip("gateway_ip", raw)?;
            let v = ipam::version(net.addr());
            if ipam::version(a) != v {
                return Err(bad(format!(
                    "gateway_ip '{raw}' does not match the ip_version '{v}'"
                )));
            }
            // A gateway outside the CIDR is allowed (reached by a host
            // route); IPv4's network and broadcast addresses are not.
            if net.contains(&a) && !ipam::host_range(net).contains(ipam::to_int(a)) {
                return Err(bad("Gateway is not valid on subnet"));
            }
            Ok(Some(a))
        }
    }
}

pub(super) fn check_modes(new: &NewSubnet, net: &IpNet) -> Result<(), Error> {
    let (ra, addr) = (
        new.ipv6_ra_mode.as_deref(),
        new.ipv6_address_mode.as_deref(),
    );
    for (attr, v) in [("ipv6_ra_mode", ra), ("ipv6_address_mode", addr)] {
        if let Some(v) = v
            && !matches!(v, "slaac" | "dhcpv6-stateful" | "dhcpv6-stateless")
        {
            return Err(Error::BadRequest(format!(
                "Invalid input for {attr}. Reason: {v} is not in valid_values."
            )));
        }
    }
    if new.ip_version == 4 && (ra.is_some() || addr.is_some()) {
        let attr = if ra.is_some() {
            "ipv6_ra_mode"
        } else {
            "ipv6_address_mode"
        };
        return Err(bad(format!("{attr} is not valid when ip_version is 4")));
    }
    if let (Some(r), Some(a)) = (ra, addr)
        && r != a
    {
        return Err(bad(format!(
            "ipv6_ra_mode set to '{r}' with ipv6_address_mode set to '{a}' is not valid. If both attributes are set, they must be the same value"
        )));
    }
    if (ra.is_some() || addr.is_some()) && !new.enable_dhcp {
        return Err(bad(
            "ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False",
        ));
    }
    if matches!(addr, Some("slaac" | "dhcpv6-stateless")) && net.prefix_len() != 64 {
        return Err(bad(format!(
            "Invalid CIDR {net} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64"
        )));
    }
    Ok(())
}
