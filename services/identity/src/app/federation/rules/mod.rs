//! Keystone's mapping rules: which of an identity provider's assertions
//! (here, OpenID Connect claims) make which local user and groups.
//!
//! A rule matches when every `remote` requirement holds; its `local`
//! directives then apply, with `{N}` standing for the values of the N-th
//! requirement that captured any (a bare `type`, or a `whitelist` /
//! `blacklist` filter; `any_one_of` / `not_any_of` only test). Every
//! matching rule contributes groups; the first one naming a user wins.
//! Claims are lists already (JSON arrays), so unlike Keystone nothing is
//! split on `;`.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

mod eval;

pub use eval::{Mapped, MappedGroup, MappedUser, UserType, apply};

/// What an identity provider asserted: each claim's values.
pub type Assertion = BTreeMap<String, Vec<String>>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub local: Vec<Local>,
    pub remote: Vec<Remote>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remote {
    #[serde(rename = "type")]
    pub claim: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_one_of: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_any_of: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whitelist: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blacklist: Option<Vec<String>>,
    /// The listed values are regular expressions, searched for in a value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub regex: bool,
}

/// One local directive. Keystone writes them as objects with one key
/// (`user`, `group`, `group_ids`) or two (`groups` with its `domain`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Local {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<LocalUser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<LocalGroup>,
    /// Group names, in `domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainRef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainRef>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<UserType>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainRef>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Parses and checks a mapping's rules; the error names what is wrong, for
/// a 400 at the time the mapping is stored rather than a 401 at login.
pub fn parse(rules: &serde_json::Value) -> Result<Vec<Rule>, String> {
    let rules: Vec<Rule> = serde_path_to_error::deserialize(rules).map_err(|e| {
        format!(
            "Invalid input for field 'rules.{}': {}",
            e.path(),
            e.inner()
        )
    })?;
    if rules.is_empty() {
        return Err("Invalid input for field 'rules': at least one rule is required.".into());
    }
    for (i, rule) in rules.iter().enumerate() {
        check_rule(rule).map_err(|m| format!("Invalid input for field 'rules[{i}]': {m}"))?;
    }
    Ok(rules)
}

fn check_rule(rule: &Rule) -> Result<(), String> {
    if rule.remote.is_empty() || rule.local.is_empty() {
        return Err("a rule needs at least one local and one remote entry.".into());
    }
    let mut captures = 0;
    for r in &rule.remote {
        let tests = [&r.any_one_of, &r.not_any_of, &r.whitelist, &r.blacklist];
        let given = tests.iter().filter(|t| t.is_some()).count();
        if given > 1 {
            return Err(format!(
                "remote '{}' may have only one of any_one_of, not_any_of, whitelist, blacklist.",
                r.claim
            ));
        }
        if r.regex {
            for pattern in tests.into_iter().flatten().flatten() {
                Regex::new(pattern).map_err(|e| format!("bad regex {pattern:?}: {e}"))?;
            }
        }
        if r.any_one_of.is_none() && r.not_any_of.is_none() {
            captures += 1;
        }
    }
    for l in &rule.local {
        let kinds = [
            l.user.is_some(),
            l.group.is_some(),
            l.groups.is_some(),
            l.group_ids.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(
                "each local entry has exactly one of user, group, groups, group_ids.".into(),
            );
        }
        if l.domain.is_some() && l.groups.is_none() {
            return Err("a local 'domain' goes only with 'groups'.".into());
        }
        if l.groups.is_some() && l.domain.is_none() {
            return Err("local 'groups' needs a 'domain'.".into());
        }
        if let Some(g) = &l.group
            && g.id.is_none()
            && (g.name.is_none() || g.domain.is_none())
        {
            return Err("a local group needs an id, or a name and a domain.".into());
        }
        for template in templates(l) {
            for n in eval::placeholders(template)? {
                if n >= captures {
                    return Err(format!(
                        "{{{n}}} refers to a remote entry that captures nothing \
                         (this rule has {captures})."
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Every string of a local entry that may hold `{N}`.
fn templates(l: &Local) -> Vec<&str> {
    let mut out = Vec::new();
    if let Some(u) = &l.user {
        out.extend(
            [&u.id, &u.name, &u.email]
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
    }
    if let Some(g) = &l.group {
        out.extend([&g.id, &g.name].into_iter().flatten().map(String::as_str));
    }
    out.extend(
        [&l.groups, &l.group_ids]
            .into_iter()
            .flatten()
            .map(String::as_str),
    );
    out
}

/// Claims as the mapping sees them: strings and numbers as one value,
/// arrays as their scalar elements; objects and nulls are left out.
pub fn assertion_from_claims(claims: &serde_json::Map<String, serde_json::Value>) -> Assertion {
    use serde_json::Value;
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    let mut out = Assertion::new();
    for (k, v) in claims {
        let values: Vec<String> = match v {
            Value::Array(items) => items.iter().filter_map(scalar).collect(),
            other => scalar(other).into_iter().collect(),
        };
        if !values.is_empty() {
            out.insert(k.clone(), values);
        }
    }
    out
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
