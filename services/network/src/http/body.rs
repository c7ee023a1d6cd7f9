//! Reading a Neutron request body: `{"<resource>": {...}}`, unknown
//! attributes refused by name, attributes not settable by this method
//! refused, and each value checked for type in Neutron's words.

use serde_json::{Map, Value};
use virga_common::Error;

pub struct Body {
    map: Map<String, Value>,
}

fn invalid(attr: &str, reason: String) -> Error {
    Error::BadRequest(format!("Invalid input for {attr}. Reason: {reason}"))
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Body {
    /// The `resource` object of the body, checked against the attributes
    /// `allowed` here; `known` are the resource's other attributes (named
    /// as not allowed rather than unknown).
    pub fn new(
        body: Value,
        resource: &str,
        method: &str,
        allowed: &[&str],
        known: &[&str],
    ) -> Result<Body, Error> {
        let Value::Object(mut outer) = body else {
            return Err(Error::BadRequest("Resource body required".into()));
        };
        let map = match outer.remove(resource) {
            Some(Value::Object(m)) => m,
            Some(_) => {
                return Err(Error::BadRequest(format!(
                    "Invalid input for {resource}. Reason: must be an object."
                )));
            }
            None => {
                return Err(Error::BadRequest(format!(
                    "Unable to find '{resource}' in request body"
                )));
            }
        };
        let unknown: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| !allowed.contains(k) && !known.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::BadRequest(format!(
                "Unrecognized attribute(s) '{}'",
                unknown.join(", ")
            )));
        }
        if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::BadRequest(if method == "PUT" {
                format!("Cannot update read-only attribute {k}")
            } else {
                format!("Attribute '{k}' not allowed in {method}")
            }));
        }
        Ok(Body { map })
    }

    /// The project a POST names, by `project_id` or `tenant_id` (both
    /// must then agree).
    pub fn project(&self) -> Result<Option<String>, Error> {
        let p = self.string("project_id", 255)?;
        let t = self.string("tenant_id", 255)?;
        match (p, t) {
            (Some(p), Some(t)) if p != t => Err(Error::BadRequest(
                "'project_id' and 'tenant_id' do not match".into(),
            )),
            (p, t) => Ok(p.or(t)),
        }
    }

    pub fn has(&self, k: &str) -> bool {
        self.map.contains_key(k)
    }

    pub fn get(&self, k: &str) -> Option<&Value> {
        self.map.get(k)
    }

    /// A string of at most `max` characters.
    pub fn string(&self, k: &str, max: usize) -> Result<Option<String>, Error> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::String(s)) if s.chars().count() > max => Err(invalid(
                k,
                format!("'{s}' exceeds maximum length of {max}."),
            )),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(invalid(k, format!("'{}' is not a valid string.", shown(v)))),
        }
    }

    /// A string or null (`Some(None)`).
    pub fn nullable_string(&self, k: &str, max: usize) -> Result<Option<Option<String>>, Error> {
        match self.map.get(k) {
            Some(Value::Null) => Ok(Some(None)),
            _ => Ok(self.string(k, max)?.map(Some)),
        }
    }

    /// A boolean, or a string Neutron converts to one.
    pub fn bool(&self, k: &str) -> Result<Option<bool>, Error> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => super::query::parse_bool(k, s).map(Some),
            Some(v) => Err(invalid(
                k,
                format!("'{}' cannot be converted to boolean.", shown(v)),
            )),
        }
    }

    /// An integer, or a string of one.
    pub fn int(&self, k: &str) -> Result<Option<i64>, Error> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(Value::String(s)) if s.parse::<i64>().is_ok() => Ok(s.parse().ok()),
            Some(v) => Err(invalid(k, format!("'{}' is not an integer.", shown(v)))),
        }
    }

    /// A list (null reads as empty).
    pub fn list(&self, k: &str) -> Result<Option<Vec<Value>>, Error> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(Vec::new())),
            Some(Value::Array(a)) => Ok(Some(a.clone())),
            Some(v) => Err(invalid(k, format!("'{}' is not a list", shown(v)))),
        }
    }

    /// A list of strings.
    pub fn strings(&self, k: &str) -> Result<Option<Vec<String>>, Error> {
        let Some(items) = self.list(k)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(invalid(
                    k,
                    format!("'{}' is not a valid string.", shown(other)),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A list of objects with string members: `need` must be present,
    /// `may` may be; others are refused.
    pub fn records(
        &self,
        k: &str,
        need: &[&str],
        may: &[&str],
    ) -> Result<Option<Vec<Map<String, Value>>>, Error> {
        let Some(items) = self.list(k)? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for item in items {
            let Value::Object(m) = item else {
                return Err(invalid(
                    k,
                    format!("'{}' is not a dictionary.", shown(&item)),
                ));
            };
            for key in m.keys() {
                if !need.contains(&key.as_str()) && !may.contains(&key.as_str()) {
                    return Err(invalid(k, format!("Unrecognized attribute(s) '{key}'")));
                }
            }
            for n in need {
                if !m.contains_key(*n) {
                    return Err(invalid(
                        k,
                        format!(
                            "Validation of dictionary's keys failed. Expected keys: {need:?} Provided keys: {:?}",
                            m.keys().collect::<Vec<_>>()
                        ),
                    ));
                }
            }
            for (key, v) in &m {
                if !v.is_string() {
                    return Err(invalid(
                        k,
                        format!("'{}' for {key} is not a valid string.", shown(v)),
                    ));
                }
            }
            out.push(m);
        }
        Ok(Some(out))
    }
}

/// The text of a member of a record `records` checked.
pub fn member(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(str::to_owned)
}
