//! Evaluating mapping rules against an assertion.

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{Assertion, DomainRef, Local, Remote, Rule};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserType {
    /// A shadow user provisioned for the provider's user (the default).
    #[default]
    Ephemeral,
    /// An existing local user the provider's user is mapped onto.
    Local,
}

/// The user a mapping names, placeholders filled in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappedUser {
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub domain: Option<DomainRef>,
    pub kind: UserType,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MappedGroup {
    Id(String),
    Name { name: String, domain: DomainRef },
}

/// What the rules made of an assertion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapped {
    pub user: Option<MappedUser>,
    pub groups: Vec<MappedGroup>,
}

/// Applies `rules` to `assertion`. `Ok(None)` when no rule matched; an
/// error when a matching rule cannot be applied (a multi-valued claim where
/// one value is needed), which the caller logs and refuses.
pub fn apply(rules: &[Rule], assertion: &Assertion) -> Result<Option<Mapped>, String> {
    let mut out = Mapped::default();
    let mut matched = false;
    for rule in rules {
        let Some(captured) = requirements(&rule.remote, assertion) else {
            continue;
        };
        matched = true;
        for local in &rule.local {
            directive(local, &captured, &mut out)?;
        }
    }
    out.groups.sort();
    out.groups.dedup();
    Ok(matched.then_some(out))
}

/// The values each capturing requirement yields, or None when one fails.
fn requirements(remote: &[Remote], assertion: &Assertion) -> Option<Vec<Vec<String>>> {
    let mut captured = Vec::new();
    for r in remote {
        let values = assertion.get(&r.claim).filter(|v| !v.is_empty())?;
        if let Some(any) = &r.any_one_of {
            if !values.iter().any(|v| matches(any, v, r.regex)) {
                return None;
            }
            continue;
        }
        if let Some(none) = &r.not_any_of {
            if values.iter().any(|v| matches(none, v, r.regex)) {
                return None;
            }
            continue;
        }
        let kept = values
            .iter()
            .filter(|v| match (&r.whitelist, &r.blacklist) {
                (Some(w), _) => matches(w, v, r.regex),
                (_, Some(b)) => !matches(b, v, r.regex),
                _ => true,
            })
            .cloned()
            .collect();
        captured.push(kept);
    }
    Some(captured)
}

fn matches(patterns: &[String], value: &str, regex: bool) -> bool {
    patterns.iter().any(|p| {
        if regex {
            // Checked when the mapping was stored.
            Regex::new(p).is_ok_and(|re| re.is_match(value))
        } else {
            p == value
        }
    })
}

fn directive(local: &Local, captured: &[Vec<String>], out: &mut Mapped) -> Result<(), String> {
    if let Some(u) = &local.user {
        let one = |t: &Option<String>| t.as_deref().map(|t| single(t, captured)).transpose();
        let user = MappedUser {
            id: one(&u.id)?,
            name: one(&u.name)?,
            email: one(&u.email)?,
            domain: u.domain.clone(),
            kind: u.kind.unwrap_or_default(),
        };
        // The first rule to name a user decides it, as in Keystone.
        if out.user.is_none() && (user.id.is_some() || user.name.is_some()) {
            out.user = Some(user);
        }
    }
    if let Some(g) = &local.group {
        if let Some(id) = &g.id {
            out.groups.push(MappedGroup::Id(single(id, captured)?));
        } else if let (Some(name), Some(domain)) = (&g.name, &g.domain) {
            out.groups.push(MappedGroup::Name {
                name: single(name, captured)?,
                domain: domain.clone(),
            });
        }
    }
    if let (Some(t), Some(domain)) = (&local.groups, &local.domain) {
        for name in many(t, captured)? {
            out.groups.push(MappedGroup::Name {
                name,
                domain: domain.clone(),
            });
        }
    }
    if let Some(t) = &local.group_ids {
        out.groups
            .extend(many(t, captured)?.into_iter().map(MappedGroup::Id));
    }
    Ok(())
}

/// The `{N}` numbers in a template, in order.
pub(super) fn placeholders(template: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("unclosed '{{' in {template:?}."))?;
        let n = after[..close]
            .parse()
            .map_err(|_| format!("'{{{}}}' in {template:?} is not a number.", &after[..close]))?;
        out.push(n);
        rest = &after[close + 1..];
    }
    Ok(out)
}

/// Fills in a template that must come out as one value.
fn single(template: &str, captured: &[Vec<String>]) -> Result<String, String> {
    let mut values = fill(template, captured)?;
    match values.len() {
        1 => Ok(values.remove(0)),
        n => Err(format!(
            "{template:?} needs one value, the assertion has {n}."
        )),
    }
}

/// Fills in a template that may come out as several values: a bare `{N}`
/// yields all of the N-th capture's values.
fn many(template: &str, captured: &[Vec<String>]) -> Result<Vec<String>, String> {
    fill(template, captured)
}

fn fill(template: &str, captured: &[Vec<String>]) -> Result<Vec<String>, String> {
    let nums = placeholders(template)?;
    let get = |n: usize| {
        captured
            .get(n)
            .ok_or_else(|| format!("{{{n}}} captures nothing."))
    };
    if nums.len() == 1 && template == format!("{{{}}}", nums[0]) {
        return Ok(get(nums[0])?.clone());
    }
    let mut s = template.to_string();
    for n in nums {
        let values = get(n)?;
        let [one] = values.as_slice() else {
            return Err(format!(
                "{{{n}}} in {template:?} needs one value, the assertion has {}.",
                values.len()
            ));
        };
        s = s.replacen(&format!("{{{n}}}"), one, 1);
    }
    Ok(vec![s])
}
