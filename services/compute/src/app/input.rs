//! Request bodies checked as Nova's JSON schemas check them, with Nova's
//! messages: `Invalid input for field/attribute <name>. Value: <value>.
//! <reason>`.

use serde_json::{Map, Value};
use virga_common::Error;

/// A schema error on `field`.
pub fn invalid(field: &str, value: &Value, reason: impl std::fmt::Display) -> Error {
    let shown = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Error::BadRequest(format!(
        "Invalid input for field/attribute {field}. Value: {shown}. {reason}"
    ))
}

/// The object under `key` of a body (`{"flavor": {...}}`), refusing
/// properties outside `allowed`.
pub fn object<'a>(
    body: &'a Value,
    key: &str,
    allowed: &[&str],
) -> Result<&'a Map<String, Value>, Error> {
    let Some(top) = body.as_object() else {
        return Err(invalid(key, body, "It is not an object."));
    };
    if let Some(extra) = top.keys().find(|k| k.as_str() != key) {
        return Err(Error::BadRequest(format!(
            "Invalid input for field/attribute. Additional properties are not allowed ('{extra}' was unexpected)"
        )));
    }
    let Some(inner) = top.get(key) else {
        return Err(Error::BadRequest(format!(
            "Invalid input for field/attribute {key}. '{key}' is a required property"
        )));
    };
    let Some(obj) = inner.as_object() else {
        return Err(invalid(
            key,
            inner,
            format!("{inner} is not of type 'object'"),
        ));
    };
    if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Error::BadRequest(format!(
            "Invalid input for field/attribute {key}. Additional properties are not allowed ('{extra}' was unexpected)"
        )));
    }
    Ok(obj)
}

/// A required property.
pub fn required<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a Value, Error> {
    obj.get(field).ok_or_else(|| {
        Error::BadRequest(format!(
            "Invalid input for field/attribute {field}. '{field}' is a required property"
        ))
    })
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// An integer given as a number or a string of digits, within
/// `min..=i32::MAX` (Nova's `flavor_param_positive` / `_non_negative`,
/// and quota limits).
pub fn integer(field: &str, v: &Value, min: i64) -> Result<i32, Error> {
    let n = match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| invalid(field, v, format!("{v} is not of type 'integer', 'string'")))?,
        // Digits, with a minus sign where negative numbers may come (-1
        // for "unlimited"); the minimum below decides.
        Value::String(s) if digits(s.strip_prefix('-').unwrap_or(s)) => {
            s.parse::<i64>().map_err(|_| {
                invalid(
                    field,
                    v,
                    format!("{s} is greater than the maximum of 2147483647"),
                )
            })?
        }
        Value::String(s) => {
            return Err(invalid(
                field,
                v,
                format!("'{s}' does not match '^[0-9]*$'"),
            ));
        }
        _ => {
            return Err(invalid(
                field,
                v,
                format!("{v} is not of type 'integer', 'string'"),
            ));
        }
    };
    if n < min {
        return Err(invalid(
            field,
            v,
            format!("{n} is less than the minimum of {min}"),
        ));
    }
    i32::try_from(n).map_err(|_| {
        invalid(
            field,
            v,
            format!("{n} is greater than the maximum of 2147483647"),
        )
    })
}

/// A boolean as Nova's `parameter_types.boolean` takes it (JSON booleans
/// and the usual strings).
pub fn boolean(field: &str, v: &Value) -> Result<bool, Error> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "1" | "t" | "true" | "on" | "y" | "yes" => Ok(true),
            "0" | "f" | "false" | "off" | "n" | "no" => Ok(false),
            _ => Err(invalid(field, v, format!("'{s}' is not a boolean"))),
        },
        _ => Err(invalid(
            field,
            v,
            format!("{v} is not of type 'boolean', 'string'"),
        )),
    }
}

/// A name: 1 to 255 printable characters, no leading or trailing
/// whitespace (Nova's `parameter_types.name`).
/// A server's `description` (2.19): `null` (none), or up to 255
/// printable characters.
pub fn description(v: &Value) -> Result<Option<String>, Error> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) => s,
        other => {
            return Err(invalid(
                "description",
                other,
                format!("{other} is not of type 'string', 'null'"),
            ));
        }
    };
    if s.chars().count() > 255 {
        return Err(invalid("description", v, format!("'{s}' is too long")));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(
            "description",
            v,
            "It has a character that is not printable.",
        ));
    }
    Ok(Some(s.clone()))
}

pub fn name(field: &str, v: &Value) -> Result<String, Error> {
    let Some(s) = v.as_str() else {
        return Err(invalid(field, v, format!("{v} is not of type 'string'")));
    };
    let n = s.chars().count();
    if n == 0 {
        return Err(invalid(field, v, format!("'{s}' is too short")));
    }
    if n > 255 {
        return Err(invalid(field, v, format!("'{s}' is too long")));
    }
    if s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace)
        || s.chars().any(char::is_control)
    {
        return Err(invalid(
            field,
            v,
            "The 'name' has leading or trailing whitespace, or a character that is not printable.",
        ));
    }
    Ok(s.to_owned())
}
