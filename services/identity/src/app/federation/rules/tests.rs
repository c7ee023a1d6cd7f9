use serde_json::json;

use super::*;

fn assertion(pairs: &[(&str, &[&str])]) -> Assertion {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

fn rules(v: serde_json::Value) -> Vec<Rule> {
    parse(&v).unwrap()
}

fn dom(id: &str) -> DomainRef {
    DomainRef {
        id: Some(id.into()),
        name: None,
    }
}

#[test]
fn bare_type_captures_and_fills_placeholders() {
    let r = rules(json!([{
        "local": [{"user": {"name": "{0}", "email": "{1}"}}],
        "remote": [{"type": "preferred_username"}, {"type": "email"}]
    }]));
    let a = assertion(&[("preferred_username", &["ana"]), ("email", &["ana@x"])]);
    let m = apply(&r, &a).unwrap().unwrap();
    let u = m.user.unwrap();
    assert_eq!(u.name.as_deref(), Some("ana"));
    assert_eq!(u.email.as_deref(), Some("ana@x"));
    assert_eq!(u.kind, UserType::Ephemeral);
}

#[test]
fn a_missing_claim_fails_the_rule() {
    let r = rules(json!([{
        "local": [{"user": {"name": "{0}"}}],
        "remote": [{"type": "preferred_username"}]
    }]));
    assert_eq!(apply(&r, &assertion(&[("sub", &["1"])])).unwrap(), None);
}

#[test]
fn any_one_of_and_not_any_of_test_without_capturing() {
    let r = rules(json!([{
        "local": [{"user": {"name": "{0}"}}, {"group": {"id": "g-admins"}}],
        "remote": [
            {"type": "sub"},
            {"type": "groups", "any_one_of": ["admins"]},
            {"type": "email_verified", "not_any_of": ["false"]}
        ]
    }]));
    let ok = assertion(&[
        ("sub", &["u1"]),
        ("groups", &["dev", "admins"]),
        ("email_verified", &["true"]),
    ]);
    let m = apply(&r, &ok).unwrap().unwrap();
    assert_eq!(m.user.unwrap().name.as_deref(), Some("u1"));
    assert_eq!(m.groups, vec![MappedGroup::Id("g-admins".into())]);

    let not_admin = assertion(&[
        ("sub", &["u1"]),
        ("groups", &["dev"]),
        ("email_verified", &["true"]),
    ]);
    assert_eq!(apply(&r, &not_admin).unwrap(), None);
    let unverified = assertion(&[
        ("sub", &["u1"]),
        ("groups", &["admins"]),
        ("email_verified", &["false"]),
    ]);
    assert_eq!(apply(&r, &unverified).unwrap(), None);
}

#[test]
fn regex_searches_values() {
    let r = rules(json!([{
        "local": [{"user": {"name": "{0}"}}],
        "remote": [{"type": "sub"}, {"type": "email", "any_one_of": ["@example\\.org$"], "regex": true}]
    }]));
    let yes = assertion(&[("sub", &["u"]), ("email", &["a@example.org"])]);
    let no = assertion(&[("sub", &["u"]), ("email", &["a@example.org.evil"])]);
    assert!(apply(&r, &yes).unwrap().is_some());
    assert_eq!(apply(&r, &no).unwrap(), None);
}

#[test]
fn whitelist_and_blacklist_filter_captured_groups() {
    let r = rules(json!([
        {
            "local": [{"user": {"name": "{0}"}}, {"groups": "{1}", "domain": {"id": "d1"}}],
            "remote": [{"type": "sub"}, {"type": "groups", "whitelist": ["dev", "ops"]}]
        },
        {
            "local": [{"group_ids": "{0}"}],
            "remote": [{"type": "gids", "blacklist": ["^admin-"], "regex": true}]
        }
    ]));
    let a = assertion(&[
        ("sub", &["u"]),
        ("groups", &["dev", "finance", "ops"]),
        ("gids", &["admin-1", "g2"]),
    ]);
    let m = apply(&r, &a).unwrap().unwrap();
    assert_eq!(
        m.groups,
        vec![
            MappedGroup::Id("g2".into()),
            MappedGroup::Name {
                name: "dev".into(),
                domain: dom("d1")
            },
            MappedGroup::Name {
                name: "ops".into(),
                domain: dom("d1")
            },
        ]
    );
}

#[test]
fn matching_rules_merge_groups_and_the_first_user_wins() {
    let r = rules(json!([
        {"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "preferred_username"}]},
        {"local": [{"user": {"name": "{0}", "type": "local"}}, {"group": {"id": "g1"}}],
         "remote": [{"type": "sub"}]},
        {"local": [{"group": {"name": "staff", "domain": {"name": "Corp"}}}],
         "remote": [{"type": "email"}]}
    ]));
    let a = assertion(&[
        ("preferred_username", &["ana"]),
        ("sub", &["s-1"]),
        ("email", &["e"]),
    ]);
    let m = apply(&r, &a).unwrap().unwrap();
    let u = m.user.unwrap();
    assert_eq!(
        (u.name.as_deref(), u.kind),
        (Some("ana"), UserType::Ephemeral)
    );
    assert_eq!(m.groups.len(), 2);
}

#[test]
fn a_multi_valued_claim_cannot_be_a_name() {
    let r = rules(json!([{"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "groups"}]}]));
    let err = apply(&r, &assertion(&[("groups", &["a", "b"])])).unwrap_err();
    assert!(err.contains("needs one value"), "{err}");
}

#[test]
fn templates_mix_text_and_placeholders() {
    let r = rules(json!([{
        "local": [{"user": {"name": "{0}@{1}"}}],
        "remote": [{"type": "preferred_username"}, {"type": "iss"}]
    }]));
    let a = assertion(&[("preferred_username", &["ana"]), ("iss", &["idp"])]);
    let m = apply(&r, &a).unwrap().unwrap();
    assert_eq!(m.user.unwrap().name.as_deref(), Some("ana@idp"));
}

#[test]
fn bad_rules_are_refused_naming_the_problem() {
    let cases = [
        (json!([]), "at least one rule"),
        (
            json!([{"local": [], "remote": [{"type": "sub"}]}]),
            "at least one local",
        ),
        (
            json!([{"local": [{"user": {"nam": "x"}}], "remote": [{"type": "sub"}]}]),
            "nam",
        ),
        (
            json!([{"local": [{"user": {"name": "{1}"}}], "remote": [{"type": "sub"}]}]),
            "{1}",
        ),
        (
            json!([{"local": [{"user": {"name": "{x}"}}], "remote": [{"type": "sub"}]}]),
            "not a number",
        ),
        (
            json!([{"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "sub", "any_one_of": ["("], "regex": true}]}]),
            "bad regex",
        ),
        (
            json!([{"local": [{"user": {"name": "a"}, "group": {"id": "g"}}], "remote": [{"type": "sub"}]}]),
            "exactly one of",
        ),
        (
            json!([{"local": [{"groups": "{0}"}], "remote": [{"type": "sub"}]}]),
            "needs a 'domain'",
        ),
        (
            json!([{"local": [{"group": {"name": "g"}}], "remote": [{"type": "sub"}]}]),
            "an id, or a name",
        ),
        (
            json!([{"local": [{"user": {"name": "a"}}], "remote": [{"type": "g", "any_one_of": ["x"], "whitelist": ["y"]}]}]),
            "only one of",
        ),
        (json!({"rules": 1}), "rules"),
    ];
    for (input, expect) in cases {
        let err = parse(&input).unwrap_err();
        assert!(err.contains(expect), "{input}: {err}");
    }
}

#[test]
fn claims_become_lists_of_strings() {
    let claims = json!({
        "sub": "u1", "groups": ["a", "b", {"x": 1}], "email_verified": true,
        "n": 3, "address": {"country": "x"}, "none": null, "empty": []
    });
    let a = assertion_from_claims(claims.as_object().unwrap());
    assert_eq!(a["sub"], vec!["u1"]);
    assert_eq!(a["groups"], vec!["a", "b"]);
    assert_eq!(a["email_verified"], vec!["true"]);
    assert_eq!(a["n"], vec!["3"]);
    assert!(!a.contains_key("address") && !a.contains_key("none") && !a.contains_key("empty"));
}
