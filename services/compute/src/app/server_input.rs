//! A server create body checked as Nova 2.1's schema checks it, with its
//! messages.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value};
use virga_common::Error;

use super::input::{self, invalid};
use super::versions::Microversion;

/// What a create asks for, checked for shape; names are looked up later.
#[derive(Debug, Clone)]
pub struct NewServer {
    pub name: String,
    pub image_ref: String,
    pub flavor_ref: String,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub availability_zone: Option<String>,
    pub min_count: u32,
    pub max_count: u32,
    pub return_reservation_id: bool,
    /// `os:scheduler_hints.group`.
    pub group: Option<String>,
    pub networks: Vec<NetworkRequest>,
    /// Virga's hints `near` ("latitude,longitude" of the clients) and
    /// `max_latency_ms`: the scheduler's `near` (prefer the nearest site,
    /// none further than the latency allows).
    pub near: Option<Value>,
    /// The security groups' names (or ids) for the ports made for it.
    pub security_groups: Vec<String>,
    /// 2.19.
    pub description: Option<String>,
}

fn security_groups(v: Option<&Value>) -> Result<Vec<String>, Error> {
    let Some(v) = v else { return Ok(vec![]) };
    let list = v
        .as_array()
        .ok_or_else(|| invalid("security_groups", v, format!("{v} is not of type 'array'")))?;
    let mut out = Vec::new();
    for g in list {
        let name = g
            .as_object()
            .and_then(|o| o.get("name"))
            .ok_or_else(|| invalid("security_groups", g, "'name' is a required property"))?;
        let name = input::name("name", name)?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// A hint's number: JSON or a string (`openstack server create --hint
/// k=v` sends strings).
fn hint_number(field: &str, v: &Value) -> Result<f64, Error> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| invalid(field, v, format!("{v} is not a number")))
}

fn near(hints: Option<&Value>) -> Result<Option<Value>, Error> {
    let Some(h) = hints else { return Ok(None) };
    let Some(at) = h.get("near") else {
        if h.get("max_latency_ms").is_some() {
            return Err(Error::BadRequest(
                "The hint max_latency_ms needs the hint near.".into(),
            ));
        }
        return Ok(None);
    };
    let (lat, lon) = match at {
        Value::String(s) => {
            let mut parts = s.split(',');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(a), Some(b), None) => (
                    hint_number("near", &Value::String(a.to_owned()))?,
                    hint_number("near", &Value::String(b.to_owned()))?,
                ),
                _ => return Err(invalid("near", at, "It is not 'latitude,longitude'.")),
            }
        }
        Value::Object(o) => (
            hint_number("near.latitude", o.get("latitude").unwrap_or(&Value::Null))?,
            hint_number("near.longitude", o.get("longitude").unwrap_or(&Value::Null))?,
        ),
        other => return Err(invalid("near", other, "It is not 'latitude,longitude'.")),
    };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(invalid(
            "near",
            at,
            "The latitude or longitude is out of range.",
        ));
    }
    let mut out = serde_json::json!({"latitude": lat, "longitude": lon});
    if let Some(m) = h.get("max_latency_ms") {
        let ms = hint_number("max_latency_ms", m)?;
        if ms < 0.0 {
            return Err(invalid(
                "max_latency_ms",
                m,
                format!("{ms} is less than the minimum of 0"),
            ));
        }
        out["max_latency_ms"] = serde_json::json!(ms);
    }
    Ok(Some(out))
}

/// One entry of `networks`: a network to make a port on, or a port.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetworkRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_ip: Option<String>,
}

fn networks(v: Option<&Value>) -> Result<Vec<NetworkRequest>, Error> {
    let Some(v) = v else {
        return Ok(vec![]);
    };
    if v == "none" {
        return Ok(vec![]);
    }
    let Some(list) = v.as_array() else {
        return Err(invalid(
            "networks",
            v,
            format!("{v} is not of type 'array'"),
        ));
    };
    let mut out = Vec::new();
    for n in list {
        let Some(o) = n.as_object() else {
            return Err(invalid(
                "networks",
                n,
                format!("{n} is not of type 'object'"),
            ));
        };
        if let Some(extra) = o
            .keys()
            .find(|k| !["uuid", "port", "fixed_ip"].contains(&k.as_str()))
        {
            return Err(Error::BadRequest(format!(
                "Invalid input for field/attribute networks. Additional properties are not allowed ('{extra}' was unexpected)"
            )));
        }
        let field = |k: &str| -> Result<Option<String>, Error> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(x) if k == "fixed_ip" => {
                    let ip = string(k, x)?;
                    ip.parse::<std::net::IpAddr>()
                        .map_err(|_| invalid(k, x, format!("'{ip}' is not a 'ip-address'")))?;
                    Ok(Some(ip.to_owned()))
                }
                Some(x) => uuid_like(k, x).map(Some),
            }
        };
        let r = NetworkRequest {
            uuid: field("uuid")?,
            port: field("port")?,
            fixed_ip: field("fixed_ip")?,
        };
        if r.uuid.is_none() && r.port.is_none() {
            return Err(Error::BadRequest(
                "Bad networks format: network uuid is not in proper format ()".into(),
            ));
        }
        out.push(r);
    }
    Ok(out)
}

const SERVER_KEYS: &[&str] = &[
    "name",
    "imageRef",
    "flavorRef",
    "key_name",
    "user_data",
    "metadata",
    "availability_zone",
    "min_count",
    "max_count",
    "return_reservation_id",
    "networks",
    "security_groups",
    "adminPass",
    "accessIPv4",
    "accessIPv6",
    "config_drive",
    "OS-DCF:diskConfig",
    "block_device_mapping_v2",
];

fn string<'a>(field: &str, v: &'a Value) -> Result<&'a str, Error> {
    v.as_str()
        .ok_or_else(|| invalid(field, v, format!("{v} is not of type 'string'")))
}

fn uuid_like(field: &str, v: &Value) -> Result<String, Error> {
    let s = string(field, v)?;
    if uuid::Uuid::parse_str(s).is_err() {
        return Err(invalid(field, v, format!("'{s}' is not a 'uuid'")));
    }
    Ok(s.to_owned())
}

pub fn metadata(v: &Value) -> Result<BTreeMap<String, String>, Error> {
    let o = v
        .as_object()
        .ok_or_else(|| invalid("metadata", v, format!("{v} is not of type 'object'")))?;
    let mut out = BTreeMap::new();
    for (k, x) in o {
        let Some(s) = x.as_str() else {
            return Err(invalid(
                "metadata",
                v,
                format!("{x} is not of type 'string'"),
            ));
        };
        if k.is_empty() || k.chars().count() > 255 {
            return Err(invalid(
                "metadata",
                v,
                format!("'{k}' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{{1,255}}$'"),
            ));
        }
        if s.chars().count() > 255 {
            return Err(invalid("metadata", v, format!("'{s}' is too long")));
        }
        out.insert(k.clone(), s.to_owned());
    }
    Ok(out)
}

fn count(field: &str, o: &Map<String, Value>) -> Result<Option<u32>, Error> {
    o.get(field)
        .map(|v| input::integer(field, v, 1).map(|n| n as u32))
        .transpose()
}

/// Block device mappings: only the image as the local root disk, the way
/// clients describe a plain boot from an image; volumes come with the
/// volume service.
fn bdm_is_the_image(bdm: Option<&Value>, image: &str) -> Result<(), Error> {
    let Some(v) = bdm else {
        return Ok(());
    };
    let Some(list) = v.as_array() else {
        return Err(invalid(
            "block_device_mapping_v2",
            v,
            format!("{v} is not of type 'array'"),
        ));
    };
    for d in list {
        let local_image = d["source_type"] == "image"
            && d.get("destination_type").is_none_or(|t| t == "local")
            && d["uuid"] == image
            && d.get("boot_index").is_none_or(|b| b == 0 || b == "0");
        if !local_image {
            return Err(Error::BadRequest(
                "Block Device Mapping is Invalid: only the server's image as its local root disk is supported (volumes are not).".into(),
            ));
        }
    }
    Ok(())
}

/// A create body checked at microversion `at` (2.19: `description`).
pub fn parse(body: &Value, at: Microversion) -> Result<NewServer, Error> {
    let Some(top) = body.as_object() else {
        return Err(invalid("server", body, "It is not an object."));
    };
    if let Some(extra) = top.keys().find(|k| {
        !["server", "os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"].contains(&k.as_str())
    }) {
        return Err(Error::BadRequest(format!(
            "Invalid input for field/attribute. Additional properties are not allowed ('{extra}' was unexpected)"
        )));
    }
    // The server object alone, checked as Nova's schema checks it.
    let alone = Value::Object(
        top.get("server")
            .map(|s| ("server".to_owned(), s.clone()))
            .into_iter()
            .collect(),
    );
    let mut keys = SERVER_KEYS.to_vec();
    keys.extend(at.at_least(19).then_some("description"));
    let s = input::object(&alone, "server", &keys)?;
    let name = input::name("name", input::required(s, "name")?)?;
    let image_ref = input::required(s, "imageRef")?;
    let image_ref = match string("imageRef", image_ref)? {
        "" => {
            return Err(Error::BadRequest(
                "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.".into(),
            ));
        }
        _ => uuid_like("imageRef", image_ref)?,
    };
    let flavor_ref = match input::required(s, "flavorRef")? {
        Value::String(f) if !f.is_empty() => f.clone(),
        Value::Number(n) => n.to_string(),
        v => {
            return Err(invalid(
                "flavorRef",
                v,
                format!("{v} is not valid under any of the given schemas"),
            ));
        }
    };
    let key_name = s
        .get("key_name")
        .map(|v| input::name("key_name", v))
        .transpose()?;
    let user_data = match s.get("user_data") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let u = string("user_data", v)?;
            if u.len() > 65535 {
                return Err(invalid("user_data", v, "It is too long."));
            }
            if base64::engine::general_purpose::STANDARD.decode(u).is_err() {
                return Err(invalid("user_data", v, format!("'{u}' is not a 'base64'")));
            }
            Some(u.to_owned())
        }
    };
    bdm_is_the_image(s.get("block_device_mapping_v2"), &image_ref)?;
    let min_count = count("min_count", s)?.unwrap_or(1);
    let max_count = count("max_count", s)?.unwrap_or(min_count);
    if min_count > max_count {
        return Err(Error::BadRequest("min_count must be <= max_count".into()));
    }
    let networks = networks(s.get("networks"))?;
    let hints = top
        .get("os:scheduler_hints")
        .or_else(|| top.get("OS-SCH-HNT:scheduler_hints"));
    let group = match hints.and_then(|h| h.get("group")) {
        None => None,
        Some(g) => Some(uuid_like("group", g)?),
    };
    let near = near(hints)?;
    let security_groups = security_groups(s.get("security_groups"))?;
    Ok(NewServer {
        description: s
            .get("description")
            .map(input::description)
            .transpose()?
            .flatten(),
        security_groups,
        near,
        name,
        image_ref,
        flavor_ref,
        key_name,
        user_data,
        metadata: s
            .get("metadata")
            .map(metadata)
            .transpose()?
            .unwrap_or_default(),
        availability_zone: s
            .get("availability_zone")
            .map(|v| string("availability_zone", v).map(str::to_owned))
            .transpose()?,
        min_count,
        max_count,
        return_reservation_id: s
            .get("return_reservation_id")
            .map(|v| input::boolean("return_reservation_id", v))
            .transpose()?
            .unwrap_or(false),
        group,
        networks,
    })
}
