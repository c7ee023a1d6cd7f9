//! A loaded policy: defaults merged with operator overrides, every rule
//! compiled and checked once, then enforced per API call.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::check::{Check, Context};
use crate::credentials::Credentials;
use crate::document;
use crate::error::{Origin, PolicyError};
use crate::graph::{self, Shape};
use crate::parser::{self, RuleError};
use crate::target::Target;

/// A compiled policy. Immutable and `Sync`: build it at startup (or on
/// reload) and share it behind an `Arc`.
#[derive(Debug)]
pub struct Policy {
    /// Rule names, sorted; `names[i]` is compiled into `rules[i]`.
    names: Vec<String>,
    rules: Vec<Check>,
    index: HashMap<String, usize>,
    unknown_overrides: Vec<String>,
}

impl Policy {
    /// Builds a policy from the service's defaults and the operator's
    /// overrides. An override replaces the default rule of the same name;
    /// one with no default is kept (operators add helper rules) and listed by
    /// [`Policy::unknown_overrides`], since it is more often a typo.
    pub fn load(defaults_yaml: &str, overrides_yaml: Option<&str>) -> Result<Policy, PolicyError> {
        let mut merged: BTreeMap<String, (String, Origin)> =
            document::rules(defaults_yaml, Origin::Defaults)?
                .into_iter()
                .map(|(name, text)| (name, (text, Origin::Defaults)))
                .collect();
        let mut unknown_overrides = Vec::new();
        if let Some(yaml) = overrides_yaml {
            for (name, text) in document::rules(yaml, Origin::Overrides)? {
                if !merged.contains_key(&name) {
                    unknown_overrides.push(name.clone());
                }
                merged.insert(name, (text, Origin::Overrides));
            }
        }
        unknown_overrides.sort();

        let index: HashMap<String, usize> = merged
            .keys()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let resolve = |name: &str| index.get(name).copied();
        let mut names = Vec::with_capacity(merged.len());
        let mut rules = Vec::with_capacity(merged.len());
        for (name, (text, origin)) in merged {
            match parser::parse(&text, &resolve) {
                Ok(check) => rules.push(check),
                Err(RuleError::Syntax(source)) => {
                    return Err(PolicyError::Parse {
                        origin,
                        rule: name,
                        source,
                    });
                }
                Err(RuleError::MissingRule(missing)) => {
                    return Err(PolicyError::MissingRule {
                        origin,
                        rule: name,
                        missing,
                    });
                }
            }
            names.push(name);
        }

        match graph::check(&rules) {
            Shape::Ok => {}
            Shape::Cycle(cycle) => {
                return Err(PolicyError::Cycle {
                    cycle: cycle.into_iter().map(|i| names[i].clone()).collect(),
                });
            }
            Shape::TooDeep(i) => {
                return Err(PolicyError::TooDeep {
                    rule: names[i].clone(),
                    limit: graph::MAX_DEPTH,
                });
            }
        }
        Ok(Policy {
            names,
            rules,
            index,
            unknown_overrides,
        })
    }

    /// As [`Policy::load`], with the overrides read from the operator's file.
    pub fn from_file(
        defaults_yaml: &str,
        overrides_path: impl AsRef<Path>,
    ) -> Result<Policy, PolicyError> {
        let path = overrides_path.as_ref();
        let overrides = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::load(defaults_yaml, Some(&overrides))
    }

    /// Whether `creds` may perform `action` on `target`. An action with no
    /// rule is an error rather than a deny so the caller can log the gap in
    /// its defaults; it must still refuse the request.
    pub fn enforce(
        &self,
        action: &str,
        creds: &Credentials,
        target: &Target,
    ) -> Result<bool, PolicyError> {
        let i = *self
            .index
            .get(action)
            .ok_or_else(|| PolicyError::UnknownAction(action.to_string()))?;
        let cx = Context {
            rules: &self.rules,
            creds,
            target,
        };
        Ok(self.rules[i].eval(&cx))
    }

    /// Every rule name, sorted, helper rules included.
    pub fn actions(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.names.iter().map(String::as_str)
    }

    pub fn contains(&self, action: &str) -> bool {
        self.index.contains_key(action)
    }

    /// Override names that have no default, sorted.
    pub fn unknown_overrides(&self) -> &[String] {
        &self.unknown_overrides
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
