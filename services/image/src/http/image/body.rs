//! Reading a create body: Glance's core fields with their types and
//! defaults, read-only and reserved names refused (403, as Glance does),
//! anything else an extra property that must be a string.

use serde_json::{Map, Value};
use virga_common::Error;

use crate::app::image::NewImage;

pub const DISK_FORMATS: [&str; 11] = [
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
];
/// `oci` is Virga's: an OCI image layout archive (see `crate::oci`).
pub const CONTAINER_FORMATS: [&str; 9] = [
    "ami",
    "ari",
    "aki",
    "bare",
    "ovf",
    "ova",
    "docker",
    "compressed",
    "oci",
];
pub const VISIBILITIES: [&str; 4] = ["community", "public", "private", "shared"];

/// Set by the service, never by a caller.
pub const READ_ONLY: [&str; 13] = [
    "status",
    "checksum",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "os_hash_algo",
    "os_hash_value",
    "direct_url",
    "self",
    "file",
    "schema",
    "stores",
];

pub fn read_only(key: &str) -> Error {
    Error::Forbidden(format!("Attribute '{key}' is read-only."))
}

/// Names Glance keeps for itself.
pub fn reserved(key: &str) -> Option<Error> {
    let is = matches!(key, "location" | "locations" | "deleted" | "deleted_at")
        || key.starts_with("os_glance");
    is.then(|| Error::Forbidden(format!("Attribute '{key}' is reserved.")))
}

pub fn bad(field: &str, why: &str) -> Error {
    Error::BadRequest(format!("Invalid value for '{field}': {why}"))
}

pub fn string_or_null(field: &str, v: &Value, max: usize) -> Result<Option<String>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().count() <= max => Ok(Some(s.clone())),
        Value::String(_) => Err(bad(field, &format!("at most {max} characters."))),
        _ => Err(bad(field, "not a string.")),
    }
}

pub fn one_of(
    field: &str,
    v: &Value,
    allowed: &[&str],
    nullable: bool,
) -> Result<Option<String>, Error> {
    match v {
        Value::Null if nullable => Ok(None),
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
        _ => Err(bad(field, &format!("must be one of {allowed:?}."))),
    }
}

pub fn boolean(field: &str, v: &Value) -> Result<bool, Error> {
    v.as_bool().ok_or_else(|| bad(field, "not a boolean."))
}

pub fn non_negative(field: &str, v: &Value) -> Result<i32, Error> {
    v.as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| bad(field, "an integer, 0 or more."))
}

pub fn tags(v: &Value) -> Result<Vec<String>, Error> {
    let items = v.as_array().ok_or_else(|| bad("tags", "not an array."))?;
    items
        .iter()
        .map(|t| match t {
            Value::String(s) if s.chars().count() <= 255 => Ok(s.clone()),
            _ => Err(bad(
                "tags",
                "each tag is a string of at most 255 characters.",
            )),
        })
        .collect()
}

fn uuid(v: &Value) -> Result<String, Error> {
    v.as_str()
        .filter(|s| {
            uuid::Uuid::parse_str(s)
                .is_ok_and(|u| u.hyphenated().to_string() == s.to_ascii_lowercase())
        })
        .map(str::to_owned)
        .ok_or_else(|| bad("id", "not a UUID."))
}

/// An extra property: a string value under a name of at most 255 characters.
pub fn property(key: &str, v: &Value) -> Result<String, Error> {
    if key.is_empty() || key.chars().count() > 255 {
        return Err(bad(key, "a property name has 1 to 255 characters."));
    }
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(bad(key, "an extra property's value must be a string.")),
    }
}

pub fn new_image(body: Map<String, Value>) -> Result<NewImage, Error> {
    let mut n = NewImage::default();
    for (k, v) in &body {
        match k.as_str() {
            "id" => n.id = Some(uuid(v)?),
            "name" => n.name = string_or_null("name", v, 255)?,
            "visibility" => n.visibility = one_of("visibility", v, &VISIBILITIES, false)?,
            "protected" => n.protected = boolean("protected", v)?,
            "os_hidden" => n.os_hidden = boolean("os_hidden", v)?,
            "min_disk" => n.min_disk = non_negative("min_disk", v)?,
            "min_ram" => n.min_ram = non_negative("min_ram", v)?,
            "disk_format" => n.disk_format = one_of("disk_format", v, &DISK_FORMATS, true)?,
            "container_format" => {
                n.container_format = one_of("container_format", v, &CONTAINER_FORMATS, true)?
            }
            "owner" => n.owner = string_or_null("owner", v, 255)?,
            "tags" => n.tags = tags(v)?,
            k if READ_ONLY.contains(&k) => return Err(read_only(k)),
            k => {
                if let Some(e) = reserved(k) {
                    return Err(e);
                }
                n.properties.insert(k.to_owned(), property(k, v)?);
            }
        }
    }
    Ok(n)
}
