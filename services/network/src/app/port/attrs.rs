//! A port's attributes that need more than a type check: MACs (given or
//! made from the configured prefix), allowed address pairs, the vNIC
//! types, and which attributes only some callers may set.

use std::net::IpAddr;

use serde_json::Value;
use virga_common::Error;
use virga_policy::Target;
use virga_service::auth::Auth;

use super::{AddressPair, VNIC_TYPES};
use crate::app::fixed_ips::IpRequest;

/// A MAC as six bytes, refused unless unicast.
pub fn parse_mac(raw: &str) -> Result<[u8; 6], Error> {
    let bad = || {
        Error::BadRequest(format!(
            "Invalid input for mac_address. Reason: '{raw}' is not a valid MAC address."
        ))
    };
    let parts: Vec<&str> = raw.split([':', '-']).collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut out = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        if p.len() != 2 {
            return Err(bad());
        }
        out[i] = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    if out[0] & 1 == 1 || out == [0; 6] {
        return Err(bad());
    }
    Ok(out)
}

pub fn show_mac(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub(super) fn random_mac(base: &str) -> Result<[u8; 6], Error> {
    let b = parse_mac(&format!("{base}:00:00:00"))?;
    let r = getrandom::u32().map_err(Error::internal)?.to_be_bytes();
    Ok([b[0], b[1], b[2], r[1], r[2], r[3]])
}

/// Allowed address pairs, checked: an address or CIDR, and a MAC.
pub(super) fn pairs_json(pairs: &[AddressPair], mac: &str) -> Result<String, Error> {
    let mut out: Vec<Value> = Vec::new();
    for (ip, pair_mac) in pairs {
        let ok = ip.parse::<IpAddr>().is_ok() || ip.parse::<ipnet::IpNet>().is_ok();
        if !ok {
            return Err(Error::BadRequest(format!(
                "Invalid input for allowed_address_pairs. Reason: '{ip}' is not a valid IP address or CIDR."
            )));
        }
        let m = match pair_mac {
            Some(raw) => show_mac(parse_mac(raw)?),
            None => mac.to_owned(),
        };
        let v = serde_json::json!({"ip_address": ip, "mac_address": m});
        if out.contains(&v) {
            return Err(Error::BadRequest(
                "Request contains duplicate address pair: ".to_owned() + &v.to_string(),
            ));
        }
        out.push(v);
    }
    Ok(Value::Array(out).to_string())
}

/// The policy checks of the attributes only some callers may set: each
/// named attribute the request sets is `<action>:<attribute>`.
pub(super) fn enforce_attrs(
    auth: &Auth,
    action: &str,
    t: &Target,
    attrs: &[&str],
) -> Result<(), Error> {
    for a in attrs {
        auth.enforce(&format!("{action}:{a}"), t)?;
    }
    Ok(())
}

/// The restricted attributes a request sets.
pub(super) fn restricted(
    mac: bool,
    ips: Option<&[IpRequest]>,
    host: bool,
    profile: bool,
    device_owner: Option<&str>,
    security: bool,
    pairs: bool,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    if mac {
        out.push("mac_address");
    }
    if ips.is_some_and(|r| r.iter().any(|r| r.ip_address.is_some())) {
        out.push("fixed_ips:ip_address");
    }
    if host || profile {
        out.push("binding");
    }
    if device_owner.is_some_and(|o| o.starts_with("network:")) {
        out.push("device_owner");
    }
    if security {
        out.push("port_security_enabled");
    }
    if pairs {
        out.push("allowed_address_pairs");
    }
    out
}

pub(super) fn check_vnic(v: &str) -> Result<(), Error> {
    if VNIC_TYPES.contains(&v) {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "Invalid input for binding:vnic_type. Reason: '{v}' is not in {VNIC_TYPES:?}."
        )))
    }
}

pub(super) fn port_security_needed() -> Error {
    crate::app::coded(
        "AddressPairAndPortSecurityRequired",
        "Port Security must be enabled in order to have allowed address pairs on a port.".into(),
    )
}
