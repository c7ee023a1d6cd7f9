//! A security group rule as asked, checked and normalised as Neutron does:
//! the ethertype's spelling, protocol names and numbers (ICMP becoming
//! ICMPv6 on IPv6), port ranges by protocol (ICMP type and code for ICMP),
//! a remote address prefix or group, and when two rules are the same.

use std::net::IpAddr;

use ipnet::IpNet;
use virga_common::Error;

/// A rule as the request gives it.
#[derive(Debug, Clone, Default)]
pub struct RuleRequest {
    pub direction: Option<String>,
    pub ethertype: Option<String>,
    pub protocol: Option<String>,
    pub port_range_min: Option<i64>,
    pub port_range_max: Option<i64>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
}

/// A rule as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normal {
    pub direction: String,
    pub ethertype: String,
    pub protocol: Option<String>,
    pub port_range_min: Option<i32>,
    pub port_range_max: Option<i32>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
}

/// IP protocol names Neutron accepts, with their numbers.
const PROTOCOLS: &[(&str, u8)] = &[
    ("ah", 51),
    ("dccp", 33),
    ("egp", 8),
    ("esp", 50),
    ("gre", 47),
    ("hopopt", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ip", 0),
    ("ipip", 4),
    ("ipv6-encap", 41),
    ("ipv6-frag", 44),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("ipv6-route", 43),
    ("ospf", 89),
    ("pgm", 113),
    ("rsvp", 46),
    ("sctp", 132),
    ("tcp", 6),
    ("udp", 17),
    ("udplite", 136),
    ("vrrp", 112),
];

/// The protocol's number (`None` for any).
pub fn number(protocol: Option<&str>) -> Option<u8> {
    let p = protocol?;
    p.parse()
        .ok()
        .or_else(|| PROTOCOLS.iter().find(|(n, _)| *n == p).map(|(_, v)| *v))
}

fn bad(msg: String) -> Error {
    Error::BadRequest(msg)
}

fn protocol(raw: Option<&str>, ethertype: &str) -> Result<Option<String>, Error> {
    let Some(raw) = raw.map(str::to_ascii_lowercase) else {
        return Ok(None);
    };
    if raw == "any" {
        return Ok(None);
    }
    let valid = match raw.parse::<i64>() {
        Ok(n) => (0..=255).contains(&n),
        Err(_) => PROTOCOLS.iter().any(|(n, _)| *n == raw),
    };
    if !valid {
        let names: Vec<String> = PROTOCOLS.iter().map(|(n, _)| format!("'{n}'")).collect();
        return Err(bad(format!(
            "Security group rule protocol {raw} not supported. Only protocol values (None, 'any', {}) and integer representations [0 to 255] are supported.",
            names.join(", ")
        )));
    }
    if ethertype == "IPv6" {
        return Ok(Some(match raw.as_str() {
            "icmp" => "ipv6-icmp".into(),
            "1" => "58".into(),
            _ => raw,
        }));
    }
    if raw.starts_with("ipv6-") || raw == "icmpv6" {
        return Err(bad(format!(
            "Invalid ethertype {ethertype} for protocol {raw}."
        )));
    }
    Ok(Some(raw))
}

fn ports(
    proto: Option<&str>,
    min: Option<i64>,
    max: Option<i64>,
) -> Result<(Option<i32>, Option<i32>), Error> {
    if min.is_none() && max.is_none() {
        return Ok((None, None));
    }
    let Some(n) = number(proto) else {
        return Err(bad(
            "Must also specify protocol if port range is given.".into()
        ));
    };
    match n {
        // TCP, UDP, SCTP, DCCP: ports 1..65535, min <= max.
        6 | 17 | 132 | 33 => {
            for v in [min, max].into_iter().flatten() {
                if !(1..=65535).contains(&v) {
                    return Err(bad(format!("Invalid value for port {v}")));
                }
            }
            match (min, max) {
                (Some(a), Some(b)) if a <= b => {
                    if (a, b) == (1, 65535) {
                        Ok((None, None))
                    } else {
                        Ok((Some(a as i32), Some(b as i32)))
                    }
                }
                _ => Err(bad(
                    "For TCP/UDP protocols, port_range_min must be <= port_range_max".into(),
                )),
            }
        }
        // ICMP and ICMPv6: min is the type, max the code.
        1 | 58 => {
            for (field, attr, v) in [
                ("type", "port_range_min", min),
                ("code", "port_range_max", max),
            ] {
                if let Some(v) = v
                    && !(0..=255).contains(&v)
                {
                    return Err(bad(format!(
                        "Invalid value for ICMP {field} ({attr}) {v}. It must be 0 to 255."
                    )));
                }
            }
            if min.is_none()
                && let Some(code) = max
            {
                return Err(bad(format!(
                    "ICMP code (port-range-max) {code} is provided but ICMP type (port-range-min) is missing."
                )));
            }
            Ok((min.map(|v| v as i32), max.map(|v| v as i32)))
        }
        n => Err(bad(format!(
            "Ports cannot be specified for protocol {n}. Ports are only supported for DCCP, SCTP, TCP, UDP."
        ))),
    }
}

fn prefix(raw: &str, ethertype: &str) -> Result<String, Error> {
    let net: IpNet = match raw.parse::<IpNet>() {
        Ok(n) => n,
        Err(_) => match raw.parse::<IpAddr>() {
            Ok(a) => IpNet::from(a),
            Err(_) => {
                return Err(bad(format!("Invalid CIDR {raw} given as IP prefix.")));
            }
        },
    };
    let v = if net.addr().is_ipv4() { "IPv4" } else { "IPv6" };
    if v != ethertype {
        return Err(bad(format!(
            "Conflicting value ethertype {ethertype} for CIDR {raw}"
        )));
    }
    Ok(net.to_string())
}

pub fn normalize(r: &RuleRequest) -> Result<Normal, Error> {
    let direction = match r.direction.as_deref() {
        Some(d @ ("ingress" | "egress")) => d.to_owned(),
        Some(d) => {
            return Err(bad(format!(
                "Invalid input for direction. Reason: {d} is not in valid_values."
            )));
        }
        None => {
            return Err(bad(
                "Failed to parse request. Required attribute 'direction' not specified".into(),
            ));
        }
    };
    let ethertype = match r
        .ethertype
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("ipv4") => "IPv4".to_owned(),
        Some("ipv6") => "IPv6".to_owned(),
        Some(_) => {
            return Err(bad(format!(
                "Security group rule for ethertype '{}' not supported. Allowed values are ['IPv4', 'IPv6'].",
                r.ethertype.as_deref().unwrap_or_default()
            )));
        }
    };
    let protocol = protocol(r.protocol.as_deref(), &ethertype)?;
    let (port_range_min, port_range_max) =
        ports(protocol.as_deref(), r.port_range_min, r.port_range_max)?;
    if r.remote_ip_prefix.is_some() && r.remote_group_id.is_some() {
        return Err(bad(
            "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided."
                .into(),
        ));
    }
    let remote_ip_prefix = r
        .remote_ip_prefix
        .as_deref()
        .map(|p| prefix(p, &ethertype))
        .transpose()?;
    Ok(Normal {
        direction,
        ethertype,
        protocol,
        port_range_min,
        port_range_max,
        remote_ip_prefix,
        remote_group_id: r.remote_group_id.clone(),
    })
}

/// Whether two rules of a group match the same traffic (Neutron's
/// duplicate test): protocols by number, "everywhere" prefixes as none.
pub fn same(a: &Normal, b: &Normal) -> bool {
    let anywhere = |p: &Option<String>| match p.as_deref() {
        None | Some("0.0.0.0/0") | Some("::/0") => None,
        Some(p) => Some(p.to_owned()),
    };
    a.direction == b.direction
        && a.ethertype == b.ethertype
        && number(a.protocol.as_deref()) == number(b.protocol.as_deref())
        && a.port_range_min == b.port_range_min
        && a.port_range_max == b.port_range_max
        && a.remote_group_id == b.remote_group_id
        && anywhere(&a.remote_ip_prefix) == anywhere(&b.remote_ip_prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(proto: Option<&str>, min: Option<i64>, max: Option<i64>, eth: &str) -> RuleRequest {
        RuleRequest {
            direction: Some("ingress".into()),
            ethertype: Some(eth.into()),
            protocol: proto.map(str::to_owned),
            port_range_min: min,
            port_range_max: max,
            ..Default::default()
        }
    }

    fn err(r: &RuleRequest) -> String {
        normalize(r).unwrap_err().to_string()
    }

    #[test]
    fn protocols_and_ethertypes_normalise() {
        let n = normalize(&rule(Some("TCP"), Some(80), Some(80), "ipv4")).unwrap();
        assert_eq!(
            (n.protocol.as_deref(), n.ethertype.as_str()),
            (Some("tcp"), "IPv4")
        );
        let n = normalize(&rule(Some("icmp"), Some(8), None, "IPv6")).unwrap();
        assert_eq!(n.protocol.as_deref(), Some("ipv6-icmp"));
        assert_eq!(
            normalize(&rule(Some("1"), None, None, "IPv6"))
                .unwrap()
                .protocol
                .as_deref(),
            Some("58")
        );
        assert_eq!(
            normalize(&rule(Some("any"), None, None, "IPv4"))
                .unwrap()
                .protocol,
            None
        );
        assert!(
            err(&rule(Some("bogus"), None, None, "IPv4")).contains("protocol bogus not supported")
        );
        assert!(err(&rule(Some("256"), None, None, "IPv4")).contains("not supported"));
        assert!(
            err(&rule(Some("ipv6-icmp"), None, None, "IPv4")).contains("Invalid ethertype IPv4")
        );
        assert!(err(&rule(None, None, None, "IPv5")).contains("ethertype 'IPv5' not supported"));
    }

    #[test]
    fn port_ranges_follow_the_protocol() {
        let full = normalize(&rule(Some("udp"), Some(1), Some(65535), "IPv4")).unwrap();
        assert_eq!((full.port_range_min, full.port_range_max), (None, None));
        assert!(
            err(&rule(Some("tcp"), Some(90), Some(80), "IPv4"))
                .contains("port_range_min must be <= port_range_max")
        );
        assert!(err(&rule(Some("tcp"), Some(80), None, "IPv4")).contains("must be <="));
        assert_eq!(
            err(&rule(Some("tcp"), Some(0), Some(80), "IPv4")),
            "Invalid value for port 0"
        );
        assert!(
            err(&rule(Some("tcp"), Some(1), Some(70000), "IPv4"))
                .contains("Invalid value for port 70000")
        );
        assert!(
            err(&rule(None, Some(80), Some(80), "IPv4")).contains("Must also specify protocol")
        );
        assert!(
            err(&rule(Some("gre"), Some(1), Some(2), "IPv4"))
                .contains("Ports cannot be specified for protocol 47")
        );
        assert!(
            err(&rule(Some("icmp"), None, Some(0), "IPv4"))
                .contains("ICMP type (port-range-min) is missing")
        );
        assert!(
            err(&rule(Some("icmp"), Some(300), None, "IPv4"))
                .contains("ICMP type (port_range_min) 300")
        );
        let echo = normalize(&rule(Some("icmp"), Some(8), Some(0), "IPv4")).unwrap();
        assert_eq!(
            (echo.port_range_min, echo.port_range_max),
            (Some(8), Some(0))
        );
    }

    #[test]
    fn remotes_and_duplicates() {
        let mut r = rule(Some("tcp"), Some(22), Some(22), "IPv4");
        r.remote_ip_prefix = Some("10.0.0.5".into());
        assert_eq!(
            normalize(&r).unwrap().remote_ip_prefix.as_deref(),
            Some("10.0.0.5/32")
        );
        r.remote_ip_prefix = Some("fd00::/64".into());
        assert!(err(&r).contains("Conflicting value ethertype IPv4 for CIDR fd00::/64"));
        r.remote_ip_prefix = Some("nonsense".into());
        assert!(err(&r).contains("Invalid CIDR nonsense given as IP prefix."));
        r.remote_ip_prefix = Some("10.0.0.0/8".into());
        r.remote_group_id = Some("g".into());
        assert!(err(&r).contains("Only one of remote_ip_prefix"));
        let a = normalize(&rule(Some("tcp"), Some(22), Some(22), "IPv4")).unwrap();
        let mut b = normalize(&rule(Some("6"), Some(22), Some(22), "IPv4")).unwrap();
        b.remote_ip_prefix = Some("0.0.0.0/0".into());
        assert!(same(&a, &b));
        b.port_range_max = Some(23);
        assert!(!same(&a, &b));
    }
}
