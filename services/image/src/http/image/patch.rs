//! Reading a PATCH body: Glance's JSON patch media types, operations
//! `add` / `replace` / `remove` on one-level paths, each turned into a
//! checked [`Change`] (read-only and reserved paths 403, core properties
//! never removed, values typed as on create).

use serde_json::Value;
use virga_common::Error;

use super::body;
use crate::app::image_patch::Change;

pub const MEDIA_TYPES: [&str; 2] = [
    "application/openstack-images-v2.1-json-patch",
    "application/openstack-images-v2.0-json-patch",
];

const CORE: [&str; 11] = [
    "id",
    "name",
    "visibility",
    "protected",
    "os_hidden",
    "min_disk",
    "min_ram",
    "disk_format",
    "container_format",
    "owner",
    "tags",
];

pub fn changes(raw: &[u8]) -> Result<Vec<Change>, Error> {
    let v: Value = serde_json::from_slice(raw)
        .map_err(|_| Error::BadRequest("Malformed JSON in request body.".into()))?;
    let ops = v.as_array().ok_or_else(|| {
        Error::BadRequest("Request body must be a JSON array of operation objects.".into())
    })?;
    ops.iter().map(change).collect()
}

fn change(op: &Value) -> Result<Change, Error> {
    let bad = |m: &str| Error::BadRequest(m.to_owned());
    let o = op
        .as_object()
        .ok_or_else(|| bad("Operations must be JSON objects."))?;
    let name = o
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Unable to find `op` in JSON Schema change."))?;
    let path = o
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Unable to find `path` in JSON Schema change."))?;
    let key = pointer(path)?;
    if body::READ_ONLY.contains(&key.as_str()) || key == "id" {
        return Err(body::read_only(&key));
    }
    if let Some(e) = body::reserved(&key) {
        return Err(e);
    }
    let value = || {
        o.get("value").ok_or_else(|| {
            Error::BadRequest(format!(
                "Operation \"{name}\" requires a member named \"value\"."
            ))
        })
    };
    match name {
        "add" | "replace" => core(&key, value()?).unwrap_or_else(|| {
            Ok(Change::SetProperty {
                value: body::property(&key, value()?)?,
                key: key.clone(),
                must_exist: name == "replace",
            })
        }),
        "remove" if CORE.contains(&key.as_str()) => Err(Error::Forbidden(format!(
            "Property {key} may not be removed."
        ))),
        "remove" => Ok(Change::RemoveProperty(key)),
        other => Err(bad(&format!("Invalid operation: `{other}`."))),
    }
}

/// A core property's change, or None for an extra property.
fn core(key: &str, v: &Value) -> Option<Result<Change, Error>> {
    Some(match key {
        "name" => body::string_or_null("name", v, 255).map(Change::Name),
        "visibility" => body::one_of("visibility", v, &body::VISIBILITIES, false)
            .map(|s| Change::Visibility(s.unwrap_or_default())),
        "protected" => body::boolean("protected", v).map(Change::Protected),
        "os_hidden" => body::boolean("os_hidden", v).map(Change::OsHidden),
        "min_disk" => body::non_negative("min_disk", v).map(Change::MinDisk),
        "min_ram" => body::non_negative("min_ram", v).map(Change::MinRam),
        "disk_format" => {
            body::one_of("disk_format", v, &body::DISK_FORMATS, true).map(Change::DiskFormat)
        }
        "container_format" => body::one_of("container_format", v, &body::CONTAINER_FORMATS, true)
            .map(Change::ContainerFormat),
        "owner" => body::string_or_null("owner", v, 255).map(Change::Owner),
        "tags" => body::tags(v).map(Change::Tags),
        _ => return None,
    })
}

/// A JSON pointer one level deep (Glance allows no deeper paths but
/// `/locations`, which Virga does not expose), unescaped.
fn pointer(path: &str) -> Result<String, Error> {
    let invalid = || Error::BadRequest(format!("Invalid JSON pointer for this resource: '{path}'"));
    let rest = path.strip_prefix('/').ok_or_else(invalid)?;
    if rest.is_empty() || rest.contains('/') {
        return Err(invalid());
    }
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '~' => match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return Err(invalid()),
            },
            c => out.push(c),
        }
    }
    Ok(out)
}
