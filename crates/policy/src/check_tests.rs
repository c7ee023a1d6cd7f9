//! Evaluation tests: what each kind of check means for given credentials
//! and targets.

use super::*;
use crate::parser::parse;

fn creds() -> Credentials {
    Credentials {
        user_id: Some("u1".into()),
        user_domain_id: Some("default".into()),
        project_id: Some("p1".into()),
        project_domain_id: Some("default".into()),
        domain_id: None,
        system_scope: None,
        roles: vec!["Member".into(), "reader".into()],
    }
}

/// Evaluates a standalone rule (no `rule:` references).
fn eval(rule: &str, creds: &Credentials, target: &Target) -> bool {
    let check = parse(rule, &|_| None).unwrap_or_else(|e| panic!("{rule:?}: {e:?}"));
    check.eval(&Context {
        rules: &[],
        creds,
        target,
    })
}

#[test]
fn roles_match_case_insensitively() {
    let t = Target::new().with("role", "READER");
    assert!(eval("role:member", &creds(), &t));
    assert!(eval("role:MEMBER", &creds(), &t));
    assert!(eval("role:%(role)s", &creds(), &t));
    assert!(!eval("role:admin", &creds(), &t));
    assert!(!eval("role:%(absent)s", &creds(), &t));
    assert!(!eval("role:member", &Credentials::default(), &t));
}

#[test]
fn the_roles_attribute_matches_case_sensitively_like_oslo_lists() {
    let t = Target::new();
    assert!(eval("roles:Member", &creds(), &t));
    assert!(!eval("roles:member", &creds(), &t));
}

#[test]
fn attributes_compare_with_the_target() {
    let own = Target::new()
        .with("project_id", "p1")
        .with("target.user_id", "u1");
    let other = Target::new()
        .with("project_id", "p2")
        .with("target.user_id", "u2");
    for rule in [
        "project_id:%(project_id)s",
        "user_id:%(target.user_id)s",
        "user_domain_id:default",
    ] {
        assert!(eval(rule, &creds(), &own), "{rule}");
    }
    assert!(!eval("project_id:%(project_id)s", &creds(), &other));
    assert!(!eval("user_id:%(target.user_id)s", &creds(), &other));
    assert!(!eval("project_domain_id:other", &creds(), &own));
}

#[test]
fn absent_attributes_and_keys_are_false_never_equal() {
    let t = Target::new().with("domain_id", "d1").with("empty", "");
    // Absent credential attribute against a present target key.
    assert!(!eval("domain_id:%(domain_id)s", &creds(), &t));
    assert!(!eval("system_scope:all", &creds(), &t));
    // Present credential attribute against an absent target key.
    assert!(!eval("project_id:%(project_id)s", &creds(), &t));
    // Both absent: still false, and `not` of it true.
    assert!(!eval("domain_id:%(nothing)s", &creds(), &t));
    assert!(eval("not domain_id:%(nothing)s", &creds(), &t));
    // An absent attribute does not equal an empty string either.
    assert!(!eval("domain_id:%(empty)s", &creds(), &t));
    assert!(!eval("domain_id:", &creds(), &t));
    let empty_domain = Credentials {
        domain_id: Some(String::new()),
        ..creds()
    };
    assert!(eval("domain_id:%(empty)s", &empty_domain, &t));
}

#[test]
fn system_scope_is_a_literal_comparison() {
    let system = Credentials {
        system_scope: Some("all".into()),
        project_id: None,
        ..creds()
    };
    assert!(eval("system_scope:all", &system, &Target::new()));
    assert!(!eval("system_scope:ALL", &system, &Target::new()));
}

#[test]
fn literals_compare_with_the_target() {
    let shared = Target::new()
        .with("visibility", "shared")
        .with("enabled", "True");
    let private = Target::new()
        .with("visibility", "private")
        .with("enabled", "False");
    assert!(eval("'shared':%(visibility)s", &creds(), &shared));
    assert!(!eval("'shared':%(visibility)s", &creds(), &private));
    assert!(!eval("'shared':%(absent)s", &creds(), &shared));
    assert!(eval("True:%(enabled)s", &creds(), &shared));
    assert!(!eval("True:%(enabled)s", &creds(), &private));
    assert!(eval("False:%(enabled)s", &creds(), &private));
    // A literal against a literal is a constant, as in oslo.
    assert!(eval("'a':a", &creds(), &shared));
    assert!(!eval("'a':b", &creds(), &shared));
}

#[test]
fn boolean_operators_evaluate_with_precedence() {
    let t = Target::new();
    // Each pair of assertions differs only if the grouping were wrong.
    assert!(eval(
        "role:admin or role:member and role:reader",
        &creds(),
        &t
    ));
    assert!(!eval(
        "(role:admin or role:member) and role:nobody",
        &creds(),
        &t
    ));
    assert!(!eval(
        "role:admin or role:member and role:nobody",
        &creds(),
        &t
    ));
    // `not` takes only the next check: (not member) or reader, not not (member or reader).
    assert!(eval("not role:member or role:reader", &creds(), &t));
    assert!(!eval("not (role:member or role:reader)", &creds(), &t));
    // (not admin) and nobody is false; not (admin and nobody) would be true.
    assert!(!eval("not role:admin and role:nobody", &creds(), &t));
    assert!(eval("not (role:admin and role:nobody)", &creds(), &t));
}

#[test]
fn rule_references_evaluate_the_referenced_rule() {
    let rules = vec![
        Check::Role(crate::template::Template::Literal("reader".into())),
        Check::Rule(0),
    ];
    let c = creds();
    let t = Target::new();
    let cx = Context {
        rules: &rules,
        creds: &c,
        target: &t,
    };
    assert!(rules[1].eval(&cx));
    let mut refs = Vec::new();
    Check::Or(vec![Check::Rule(1), Check::Not(Box::new(Check::Rule(0)))]).references(&mut refs);
    assert_eq!(refs, vec![1, 0]);
}
