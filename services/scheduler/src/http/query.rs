//! Placement's query-string mini-languages, shared by the provider list
//! and allocation candidates: `resources=VCPU:2,MEMORY_MB:512`,
//! `member_of=in:<agg>,<agg>` and `required=HW_CPU_X86_AVX2,!CUSTOM_X`.
//! Each refusal is a 400 naming the parameter and echoing its value.

use std::collections::{BTreeMap, BTreeSet};

use virga_common::Error;

use super::body;

/// `VCPU:2,MEMORY_MB:512` as class → amount (`key` names the parameter).
pub fn resources_named(key: &str, raw: &str) -> Result<BTreeMap<String, i64>, Error> {
    let bad = || {
        Error::BadRequest(format!(
            "Badly formed {key} parameter. Expected {key} query string parameter in form: ?{key}=VCPU:2,MEMORY_MB:1024. Got: {raw}."
        ))
    };
    let mut out = BTreeMap::new();
    for part in raw.split(',') {
        let (class, n) = part.split_once(':').ok_or_else(bad)?;
        let n: i64 = n.trim().parse().map_err(|_| bad())?;
        let class = class.trim();
        if class.is_empty() || n < 1 || out.insert(class.to_owned(), n).is_some() {
            return Err(bad());
        }
    }
    Ok(out)
}

pub fn resources(raw: &str) -> Result<BTreeMap<String, i64>, Error> {
    resources_named("resources", raw)
}

/// An aggregate uuid, or `in:` and several (any of them).
pub fn member_of(raw: &str) -> Result<Vec<String>, Error> {
    let list = raw.strip_prefix("in:").unwrap_or(raw);
    list.split(',')
        .map(|u| body::uuid("member_of", u.trim()))
        .collect()
}

/// One `member_of` value: in at least one of these aggregates, or (1.32,
/// `!agg` or `!in:a,b`) in none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberOf {
    AnyOf(Vec<String>),
    NoneOf(Vec<String>),
}

/// `member_of` with forbidden aggregates from 1.32 (`forbidden_allowed`).
pub fn member_of_or_not(key: &str, raw: &str, forbidden_allowed: bool) -> Result<MemberOf, Error> {
    match raw.strip_prefix('!') {
        Some(rest) if forbidden_allowed => {
            if rest.contains('!') {
                return Err(Error::BadRequest(format!(
                    "Invalid query string parameters: '{key}' may forbid aggregates with '!' only at its start, as in !in:<uuid>,<uuid>. Got: {raw}"
                )));
            }
            Ok(MemberOf::NoneOf(member_of(rest)?))
        }
        _ if forbidden_allowed && raw.contains('!') => Err(Error::BadRequest(format!(
            "Invalid query string parameters: '{key}' cannot mix required and forbidden aggregates; forbid with !in:<uuid>,<uuid>. Got: {raw}"
        ))),
        _ => Ok(MemberOf::AnyOf(member_of(raw)?)),
    }
}

/// `A,B,!C`: traits required and (with `forbidden_allowed`, 1.22)
/// forbidden.
pub fn required(
    key: &str,
    raw: &str,
    forbidden_allowed: bool,
) -> Result<(BTreeSet<String>, BTreeSet<String>), Error> {
    let bad = || {
        let form = if forbidden_allowed {
            "HW_CPU_X86_VMX,!CUSTOM_MAGIC"
        } else {
            "HW_CPU_X86_VMX,CUSTOM_MAGIC"
        };
        Error::BadRequest(format!(
            "Invalid query string parameters: Expected '{key}' parameter value of the form: {form}. Got: {raw}"
        ))
    };
    let (mut want, mut not) = (BTreeSet::new(), BTreeSet::new());
    for t in raw.split(',').map(str::trim) {
        let (set, name) = match t.strip_prefix('!') {
            Some(n) if forbidden_allowed => (&mut not, n),
            Some(_) => return Err(bad()),
            None => (&mut want, t),
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
        {
            return Err(bad());
        }
        set.insert(name.to_owned());
    }
    let both: Vec<&String> = want.intersection(&not).collect();
    if !both.is_empty() {
        return Err(conflict(&both));
    }
    Ok((want, not))
}

pub use crate::app::traits::Traits;

const ANY_FORM: &str = "in:HW_CPU_X86_VMX,CUSTOM_MAGIC";

/// The values of one `required` key. From 1.39 (`v139`) a key may be
/// repeated, every value holding, and a value may be `in:A,B`; before,
/// only the last value counts, as in Placement.
pub fn traits(key: &str, values: &[&str], v122: bool, v139: bool) -> Result<Traits, Error> {
    let values = if v139 {
        values
    } else {
        &values[values.len().saturating_sub(1)..]
    };
    let mut out = Traits::default();
    for raw in values {
        let Some(list) = raw.strip_prefix("in:") else {
            let (want, not) = required(key, raw, v122)?;
            out.required.extend(want);
            out.forbidden.extend(not);
            continue;
        };
        if !v139 {
            return Err(Error::BadRequest(format!(
                "Invalid query string parameters: The format '{ANY_FORM}' only supported since microversion 1.39. Got: {raw}"
            )));
        }
        let names: Vec<&str> = list.split(',').map(str::trim).collect();
        if names.iter().any(|n| n.is_empty()) {
            return Err(Error::BadRequest(format!(
                "Invalid query string parameters: Expected '{key}' parameter value of the form: {ANY_FORM}. Got an empty trait in: {raw}"
            )));
        }
        if names.iter().any(|n| n.starts_with('!')) {
            return Err(Error::BadRequest(format!(
                "Invalid query string parameters: The format '{ANY_FORM}' does not support forbidden traits. Got: {raw}"
            )));
        }
        let (set, _) = required(key, list, false)?;
        out.any.push(set);
    }
    let both: Vec<&String> = out.required.intersection(&out.forbidden).collect();
    if !both.is_empty() {
        return Err(conflict(&both));
    }
    if let Some(set) = out.any.iter().find(|s| s.is_subset(&out.forbidden)) {
        let names: Vec<&str> = set.iter().map(String::as_str).collect();
        return Err(Error::BadRequest(format!(
            "Conflicting required and forbidden traits found in the following traits keys: {key}: ({})",
            names.join(", ")
        )));
    }
    Ok(out)
}

fn conflict(both: &[&String]) -> Error {
    Error::BadRequest(format!(
        "Conflicting required and forbidden traits found in the following traits: {}",
        both.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_forms() {
        assert_eq!(
            resources("VCPU:2, MEMORY_MB:512").unwrap(),
            BTreeMap::from([("MEMORY_MB".into(), 512), ("VCPU".into(), 2)])
        );
        for bad in [
            "",
            "VCPU",
            "VCPU:0",
            "VCPU:-1",
            "VCPU:x",
            ":1",
            "VCPU:1,VCPU:2",
        ] {
            let e = resources(bad).unwrap_err();
            assert!(e.to_string().contains("resources"), "{bad}: {e}");
        }
        assert!(
            resources_named("resources1", "x")
                .unwrap_err()
                .to_string()
                .contains("resources1")
        );
    }

    #[test]
    fn required_forms() {
        let (w, n) = required("required", "A_1,!B", true).unwrap();
        assert_eq!((w.len(), n.len()), (1, 1));
        assert!(
            required("required", "!B", false).is_err(),
            "forbidden is 1.22"
        );
        assert!(required("required", "a", true).is_err());
        assert!(required("required", "A,,B", true).is_err());
        let e = required("required", "A,!A", true).unwrap_err();
        assert!(e.to_string().contains("Conflicting"), "{e}");
    }

    #[test]
    fn any_traits_forms() {
        let set = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let t = traits("required", &["in:A, B", "C,!D"], true, true).unwrap();
        assert_eq!(t.required, set(&["C"]));
        assert_eq!(t.any, vec![set(&["A", "B"])]);
        assert_eq!(t.forbidden, set(&["D"]));
        let last = traits("required", &["A", "B"], true, false).unwrap();
        assert_eq!(
            last.required,
            set(&["B"]),
            "before 1.39 the last value counts"
        );
        let e = traits("required", &["in:A,B"], true, false).unwrap_err();
        assert!(
            e.to_string()
                .contains("only supported since microversion 1.39"),
            "{e}"
        );
        let e = traits("required", &["in:A,,B"], true, true).unwrap_err();
        assert!(
            e.to_string().contains("Got an empty trait in: in:A,,B"),
            "{e}"
        );
        let e = traits("required", &["in:A,!B"], true, true).unwrap_err();
        assert!(
            e.to_string().contains("does not support forbidden traits"),
            "{e}"
        );
        let e = traits("required", &["in:A,B", "!A,!B"], true, true).unwrap_err();
        assert!(e.to_string().contains("required: (A, B)"), "{e}");
        assert!(
            traits("required", &["in:A,B", "!A"], true, true).is_ok(),
            "B may still hold"
        );
    }
}
