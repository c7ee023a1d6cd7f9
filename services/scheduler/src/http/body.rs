//! Reading request bodies and query strings the way Placement's JSON
//! schemas do: unknown keys refused, types and bounds checked, and a 400
//! that names the field.

use serde_json::{Map, Value};
use virga_common::Error;

pub fn invalid(why: impl std::fmt::Display) -> Error {
    Error::BadRequest(format!("JSON does not validate: {why}"))
}

/// The body as an object with only `allowed` keys.
pub fn object<'a>(body: &'a Value, allowed: &[&str]) -> Result<&'a Map<String, Value>, Error> {
    let obj = body
        .as_object()
        .ok_or_else(|| invalid(format!("{body} is not of type 'object'")))?;
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(format!(
            "Additional properties are not allowed ('{k}' was unexpected)"
        )));
    }
    Ok(obj)
}

pub fn required<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a Value, Error> {
    obj.get(key)
        .ok_or_else(|| invalid(format!("'{key}' is a required property")))
}

/// An integer in `min..=max`.
pub fn int(key: &str, v: &Value, min: i64, max: i64) -> Result<i64, Error> {
    let n = v
        .as_i64()
        .ok_or_else(|| invalid(format!("{v} is not of type 'integer' ('{key}')")))?;
    if n < min {
        return Err(invalid(format!(
            "{n} is less than the minimum of {min} ('{key}')"
        )));
    }
    if n > max {
        return Err(invalid(format!(
            "{n} is greater than the maximum of {max} ('{key}')"
        )));
    }
    Ok(n)
}

/// A string of 1..=`max` characters.
pub fn string(key: &str, v: &Value, max: usize) -> Result<String, Error> {
    let s = v
        .as_str()
        .ok_or_else(|| invalid(format!("{v} is not of type 'string' ('{key}')")))?;
    if s.is_empty() || s.chars().count() > max {
        return Err(invalid(format!("'{key}' must be 1 to {max} characters")));
    }
    Ok(s.to_owned())
}

/// A uuid, in its canonical hyphenated lowercase form.
pub fn uuid(key: &str, s: &str) -> Result<String, Error> {
    uuid::Uuid::parse_str(s)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| Error::BadRequest(format!("Invalid uuid value for '{key}': {s}")))
}

/// Query parameters, refusing any not in `allowed` (for this version).
pub fn query(pairs: &[(String, String)], allowed: &[&str]) -> Result<(), Error> {
    match pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((k, _)) => Err(Error::BadRequest(format!(
            "Invalid query string parameters: Additional properties are not allowed ('{k}' was unexpected)"
        ))),
        None => Ok(()),
    }
}

/// The one value of `key`, if given.
pub fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A number in `min..=max`.
pub fn number(key: &str, v: &Value, min: f64, max: f64) -> Result<f64, Error> {
    match v.as_f64() {
        Some(n) if n >= min && n <= max => Ok(n),
        _ => Err(invalid(format!(
            "{v} is not a number from {min} to {max} ('{key}')"
        ))),
    }
}

/// One of `allowed`.
pub fn one_of(key: &str, v: &Value, allowed: &[&str]) -> Result<String, Error> {
    match v.as_str() {
        Some(s) if allowed.contains(&s) => Ok(s.to_owned()),
        _ => Err(invalid(format!(
            "{v} is not one of {} ('{key}')",
            allowed.join(", ")
        ))),
    }
}

/// An optional list of strings (absent: empty).
pub fn strings(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, Error> {
    match obj.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(l)) => l.iter().map(|s| string(key, s, 255)).collect(),
        Some(_) => Err(invalid(format!("'{key}' is not of type 'array'"))),
    }
}
