//! `GET /allocation_candidates` (1.10): parse the request groups from
//! the query string by version, find, render in the version's shape.
//!
//! Parameters by version: `resources` (1.10), `limit` (1.16), `required`
//! (1.17; `!T` forbidden from 1.22), `member_of` (1.21; repeatable from
//! 1.24), numbered groups `resourcesN`/`requiredN`/`member_ofN` with
//! `group_policy` (1.25), `same_subtree` and groups without resources
//! (1.36), `required=in:A,B` (1.39). The summaries list every class of a provider
//! from 1.27 (the requested ones before), traits from 1.17, and the
//! tree from 1.29.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{Extension, Query, State};
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use super::query;
use crate::app::allocation_candidate::{self as app, Candidates, Group, Policy, Request};
use crate::app::enforce;

fn bad(msg: impl Into<String>) -> Error {
    Error::BadRequest(msg.into())
}

/// The parameter's base name and group suffix (`resources1` → `resources`, `1`).
fn split_key(key: &str) -> Option<(&'static str, &str)> {
    ["resources", "required", "member_of", "in_tree"]
        .into_iter()
        .find_map(|base| key.strip_prefix(base).map(|rest| (base, rest)))
}

/// 1.33: a group suffix of up to 64 letters, digits, `_` and `-`.
fn suffix_chars(s: &str) -> bool {
    s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

fn parse(q: &[(String, String)], v: Microversion) -> Result<Request, Error> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut req = Request {
        nested: v.at_least(29),
        ..Request::default()
    };
    let mut member_of_seen = BTreeSet::new();
    // Each `required` key's values, read together once all are known.
    let mut required: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, raw) in q {
        match key.as_str() {
            "limit" if v.at_least(16) => {
                let n: usize = raw.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    bad(format!("Invalid query string parameters: 'limit' must be a positive integer, got '{raw}'"))
                })?;
                req.limit = Some(n);
                continue;
            }
            "root_required" if v.at_least(35) => {
                if raw.starts_with("in:") {
                    return Err(bad(format!(
                        "Invalid query string parameters: 'root_required' does not take the 'in:' format. Got: {raw}"
                    )));
                }
                let (want, not) = query::required(key, raw, true)?;
                req.root_required.extend(want);
                req.root_forbidden.extend(not);
                continue;
            }
            "same_subtree" if v.at_least(36) => {
                let set: BTreeSet<String> = raw.split(',').map(|x| x.trim().to_owned()).collect();
                if set.contains("") {
                    return Err(bad(
                        "Empty string (unsuffixed group) can not be specified in `same_subtree` ",
                    ));
                }
                req.same_subtree.push(set);
                continue;
            }
            "group_policy" if v.at_least(25) => {
                req.policy = match raw.as_str() {
                    "none" => Policy::None,
                    "isolate" => Policy::Isolate,
                    _ => {
                        return Err(bad(format!(
                            "Invalid query string parameters: 'group_policy' must be 'none' or 'isolate', got '{raw}'"
                        )));
                    }
                };
                continue;
            }
            _ => {}
        }
        let unexpected = || {
            bad(format!(
                "Invalid query string parameters: Additional properties are not allowed ('{key}' was unexpected)"
            ))
        };
        let (base, suffix) = split_key(key).ok_or_else(unexpected)?;
        let suffix_ok = suffix.is_empty()
            || (v.at_least(25) && suffix.bytes().all(|c| c.is_ascii_digit()))
            || (v.at_least(33) && suffix_chars(suffix));
        let base_ok = match base {
            "resources" => true,
            "required" => v.at_least(17),
            "in_tree" => v.at_least(31),
            _ => v.at_least(21),
        };
        if !suffix_ok || !base_ok {
            return Err(unexpected());
        }
        let g = groups.entry(suffix.to_owned()).or_insert_with(|| Group {
            suffix: suffix.to_owned(),
            ..Group::default()
        });
        match base {
            "resources" => {
                if !g.resources.is_empty() {
                    return Err(bad(format!(
                        "Invalid query string parameters: '{key}' given more than once"
                    )));
                }
                g.resources = query::resources_named(key, raw)?;
            }
            "required" => required.entry(key.as_str()).or_default().push(raw.as_str()),
            "in_tree" => {
                if g.in_tree.is_some() {
                    return Err(bad(format!(
                        "Invalid query string parameters: '{key}' given more than once"
                    )));
                }
                g.in_tree = Some(uuid::Uuid::parse_str(raw).map(|u| u.to_string()).map_err(|_| {
                    bad(format!("Invalid query string parameters: Expected '{key}' parameter to be a format of uuid. Got: {raw}"))
                })?);
            }
            _ => {
                if !member_of_seen.insert(key.clone()) && !v.at_least(24) {
                    return Err(bad(format!(
                        "Invalid query string parameters: '{key}' given more than once (allowed from 1.24)"
                    )));
                }
                match query::member_of_or_not(key, raw, v.at_least(32))? {
                    query::MemberOf::AnyOf(any) => g.member_of.push(any),
                    query::MemberOf::NoneOf(none) => g.not_member_of.extend(none),
                }
            }
        }
    }
    for (key, values) in required {
        let t = query::traits(key, &values, v.at_least(22), v.at_least(39))?;
        let suffix = &key["required".len()..];
        if let Some(g) = groups.get_mut(suffix) {
            g.required.extend(t.required);
            g.required_any.extend(t.any);
            g.forbidden.extend(t.forbidden);
        }
    }
    if v.at_least(36) {
        resourceless(&groups, &req.same_subtree)?;
    } else {
        if let Some(g) = groups.values().find(|g| g.resources.is_empty()) {
            let which = if g.suffix.is_empty() {
                "resources".to_owned()
            } else {
                format!("resources{}", g.suffix)
            };
            return Err(bad(format!(
                "All request groups must specify resources: '{which}' is missing."
            )));
        }
        if groups.is_empty() {
            return Err(bad(
                "At least one 'resources' query string parameter must be specified.",
            ));
        }
    }
    let numbered = groups.keys().filter(|s| !s.is_empty()).count();
    if numbered > 1 && !q.iter().any(|(k, _)| k == "group_policy") {
        return Err(bad(
            "The \"group_policy\" parameter is required when specifying more than one \"resources{N}\" parameter.",
        ));
    }
    req.groups = groups.into_values().collect();
    Ok(req)
}

/// 1.36: a suffixed group may ask only for traits or aggregates if a
/// `same_subtree` names it, and `same_subtree` names only real groups.
fn resourceless(groups: &BTreeMap<String, Group>, same: &[BTreeSet<String>]) -> Result<(), Error> {
    if groups.values().all(|g| g.resources.is_empty()) {
        return Err(bad(
            "There must be at least one resources or resources[$S] parameter.",
        ));
    }
    let listed = |s: &String| same.iter().any(|set| set.contains(s));
    let orphans: Vec<String> = groups
        .values()
        .filter(|g| g.resources.is_empty() && !listed(&g.suffix))
        .map(|g| format!("'{}'", g.suffix))
        .collect();
    if !orphans.is_empty() {
        return Err(bad(format!(
            "Resourceless suffixed group request should be specified in `same_subtree` query param: bad group(s) - [{}].",
            orphans.join(", ")
        )));
    }
    let quoted = |l: Vec<&String>| {
        l.iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unknown: Vec<&String> = same
        .iter()
        .flatten()
        .filter(|s| !groups.contains_key(*s))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !unknown.is_empty() {
        let real = groups.keys().filter(|s| !s.is_empty()).collect();
        return Err(bad(format!(
            "Real suffixes should be specified in `same_subtree`: [{}] not found in [{}].",
            quoted(unknown),
            quoted(real)
        )));
    }
    Ok(())
}

fn render(c: Candidates, req: &Request, v: Microversion) -> Value {
    let requests: Vec<Value> = c
        .allocations
        .iter()
        .zip(&c.mappings)
        .map(|(a, mappings)| {
            if v.at_least(12) {
                let m: Map<String, Value> = a
                    .iter()
                    .map(|(p, r)| (p.clone(), json!({"resources": r})))
                    .collect();
                let mut out = json!({"allocations": m});
                // 1.34: which providers satisfied each group.
                if v.at_least(34) {
                    out["mappings"] = json!(mappings);
                }
                out
            } else {
                let l: Vec<Value> = a
                    .iter()
                    .map(|(p, r)| json!({"resource_provider": {"uuid": p}, "resources": r}))
                    .collect();
                json!({"allocations": l})
            }
        })
        .collect();
    let asked: BTreeSet<&String> = req.groups.iter().flat_map(|g| g.resources.keys()).collect();
    let summaries: Map<String, Value> = c
        .summaries
        .into_iter()
        .map(|(p, s)| {
            let resources: Map<String, Value> = s
                .resources
                .iter()
                .filter(|(class, _)| v.at_least(27) || asked.contains(class))
                .map(|(class, (cap, used))| (class.clone(), json!({"capacity": cap, "used": used})))
                .collect();
            let mut out = json!({"resources": resources});
            if v.at_least(17) {
                out["traits"] = json!(s.traits);
            }
            if v.at_least(29) {
                out["parent_provider_uuid"] = json!(s.parent);
                out["root_provider_uuid"] = json!(s.root);
            }
            (p, out)
        })
        .collect();
    json!({"allocation_requests": requests, "provider_summaries": summaries})
}

/// Every way the providers can satisfy a request now, each ready to
/// claim with `PUT /allocations/{consumer}`, with the providers' summary.
#[utoipa::path(get, path = "/allocation_candidates", tag = "allocation_candidates",
    params(("resources" = String, Query, description = "CLASS:amount,... (resourcesN from 1.25)"),
           ("required" = Option<String>, Query, description = "1.17: traits; 1.22: !TRAIT forbidden (requiredN from 1.25); 1.39: in:A,B for any of them, and repeatable"),
           ("member_of" = Option<String>, Query, description = "1.21: an aggregate or in:<uuid>,... (repeatable from 1.24; member_ofN from 1.25; !<uuid> or !in:... forbids from 1.32)"),
           ("root_required" = Option<String>, Query, description = "1.35: traits the root of the candidate's tree must have (!T: must not)"),
           ("in_tree" = Option<String>, Query, description = "1.31: only providers in this provider's tree (in_treeN for a numbered group)"),
           ("group_policy" = Option<String>, Query, description = "1.25: none or isolate"),
           ("same_subtree" = Option<String>, Query, description = "1.36: group suffixes (_A,_B) whose providers one of them encloses; repeatable. A suffixed group without resources must be named in one"),
           ("limit" = Option<u32>, Query, description = "1.16: at most this many candidates")),
    security(("token" = [])),
    responses((status = 200, description = "Candidates and provider summaries", body = Object),
              (status = 400, description = "A bad parameter, an unknown class or trait")))]
pub async fn list_allocation_candidates(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    v.require(10)?;
    enforce(&auth, "allocation_candidates")?;
    let req = parse(&q, v)?;
    let found = app::find(&ctx, &req).await?;
    Ok(Json(render(found, &req, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Vec<(String, String)> {
        s.split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    fn at(minor: u32) -> Microversion {
        Microversion::new(1, minor)
    }

    #[test]
    fn groups_by_version() {
        let r = parse(&q("resources=VCPU:1&required=A,!B&limit=5"), at(22)).unwrap();
        assert_eq!(r.groups.len(), 1);
        assert_eq!(r.limit, Some(5));
        assert!(r.groups[0].forbidden.contains("B"));
        assert!(
            parse(&q("resources=VCPU:1&required=A"), at(16)).is_err(),
            "required is 1.17"
        );
        assert!(
            parse(&q("resources=VCPU:1&limit=2"), at(15)).is_err(),
            "limit is 1.16"
        );
        assert!(parse(&q("resources=VCPU:1&limit=0"), at(16)).is_err());
        let g = parse(
            &q("resources1=VCPU:1&resources2=VGPU:1&required2=CUSTOM_X&group_policy=isolate"),
            at(25),
        )
        .unwrap();
        assert_eq!(g.groups.len(), 2);
        assert_eq!(g.policy, Policy::Isolate);
        assert!(
            parse(&q("resources1=VCPU:1&resources2=VGPU:1"), at(25)).is_err(),
            "group_policy"
        );
        assert!(
            parse(&q("resources1=VCPU:1"), at(24)).is_err(),
            "granular is 1.25"
        );
        assert!(
            parse(&q("resources=VCPU:1&required1=X"), at(25)).is_err(),
            "a group without resources"
        );
        assert!(parse(&q("required=X"), at(25)).is_err());
        let two = "resources=VCPU:1&member_of=9a2f4e35-6b4d-4f2a-9a1c-2b3c4d5e6f70&member_of=in:9a2f4e35-6b4d-4f2a-9a1c-2b3c4d5e6f71";
        assert!(
            parse(&q(two), at(23)).is_err(),
            "repeated member_of is 1.24"
        );
        assert_eq!(parse(&q(two), at(24)).unwrap().groups[0].member_of.len(), 2);
        assert!(parse(&q("resources=VCPU:1&colour=red"), at(29)).is_err());
        let last = parse(&q("resources=VCPU:1&required=A&required=!A"), at(29)).unwrap();
        assert!(
            last.groups[0].required.is_empty() && last.groups[0].forbidden.contains("A"),
            "before 1.39 the last `required` counts"
        );
        assert!(parse(&q("resources=VCPU:1&required=A&required=!A"), at(39)).is_err());
        assert!(
            parse(&q("resources_X=VCPU:1"), at(29)).is_err(),
            "string suffixes are 1.33"
        );
        let named = parse(&q("resources_GPU-0=VGPU:1"), at(33)).unwrap();
        assert_eq!(named.groups[0].suffix, "_GPU-0");
        assert!(parse(&q("resources_G.PU=VGPU:1"), at(33)).is_err());
        let long = format!("resources{}=VGPU:1", "x".repeat(65));
        assert!(parse(&q(&long), at(33)).is_err(), "64 characters at most");
    }
}
