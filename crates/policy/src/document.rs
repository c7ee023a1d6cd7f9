//! Reading a policy file: oslo's `policy.yaml`, a flat mapping of rule name to
//! rule string. JSON policy files (oslo's older format) are YAML too.

use serde_yaml_ng::Value;

use crate::error::{Origin, PolicyError};

/// The `(name, rule)` pairs of a document, in file order. A document with no
/// mapping at all (empty, or only comments, as shipped by many deployment
/// tools) has no rules. Duplicate names are refused by the YAML layer.
pub(crate) fn rules(yaml: &str, origin: Origin) -> Result<Vec<(String, String)>, PolicyError> {
    let doc: Value =
        serde_yaml_ng::from_str(yaml).map_err(|source| PolicyError::Yaml { origin, source })?;
    let mapping = match doc {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(m) => m,
        _ => return Err(PolicyError::NotAMapping { origin }),
    };
    mapping
        .into_iter()
        .map(|(key, value)| {
            let Value::String(rule) = key else {
                return Err(PolicyError::BadRuleName {
                    origin,
                    key: describe(&key),
                });
            };
            match value {
                Value::String(text) => Ok((rule, text)),
                // oslo's list-of-lists syntax and unquoted `True` land here.
                _ => Err(PolicyError::NotAString { origin, rule }),
            }
        })
        .collect()
}

fn describe(key: &Value) -> String {
    match key {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => "a sequence, mapping or tagged value".to_string(),
    }
}
