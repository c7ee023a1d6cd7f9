//! What is being acted on: the flat key/value map that `%(key)s`
//! substitutions in rules read from.

use std::collections::HashMap;

/// The object of an API call, e.g. `{"project_id": "p1"}` for a server in
/// project p1. Keys are plain strings, so oslo's dotted keys
/// (`%(target.project_id)s`) are just keys containing a dot. A key that is
/// not present is "absent": every check reading it is false.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    values: HashMap<String, String>,
}

impl Target {
    pub fn new() -> Self {
        Target::default()
    }

    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets `key` when `value` is `Some` and leaves it absent otherwise, for
    /// fields that are optional on the resource (e.g. a domain-less user).
    pub fn with_opt(mut self, key: impl Into<String>, value: Option<impl Into<String>>) -> Self {
        let key = key.into();
        match value {
            Some(value) => {
                self.values.insert(key, value.into());
            }
            None => {
                self.values.remove(&key);
            }
        }
        self
    }

    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), value.into());
    }

    /// Makes `key` absent again.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.values.remove(key)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Target {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Target {
            values: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}
