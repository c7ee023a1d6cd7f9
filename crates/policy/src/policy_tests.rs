//! Policy loading and enforcement tests: overrides, reference checks, document
//! errors, the unknown-action contract.

use std::error::Error as _;

use super::*;
use crate::error::ParseErrorKind;

const DEFAULTS: &str = r#"
# Comments are allowed, as in oslo's generated sample files.
"admin_required": "role:admin"
"owner": "project_id:%(project_id)s"
"admin_or_owner": "rule:admin_required or rule:owner"
"compute:servers:get": "rule:admin_or_owner"
"compute:servers:delete": "rule:admin_required"
"compute:shelve": "!"
"compute:list": ""
"compute:flavors": "@"
"#;

fn member_of(project: &str) -> Credentials {
    Credentials {
        project_id: Some(project.into()),
        roles: vec!["member".into()],
        ..Credentials::default()
    }
}

fn server_in(project: &str) -> Target {
    Target::new().with("project_id", project)
}

fn load_err(defaults: &str, overrides: Option<&str>) -> PolicyError {
    match Policy::load(defaults, overrides) {
        Ok(_) => panic!("policy should not load"),
        Err(e) => e,
    }
}

#[test]
fn defaults_alone_are_enforced() {
    let policy = Policy::load(DEFAULTS, None).unwrap();
    let (c, own, other) = (member_of("p1"), server_in("p1"), server_in("p2"));
    assert!(policy.enforce("compute:servers:get", &c, &own).unwrap());
    assert!(!policy.enforce("compute:servers:get", &c, &other).unwrap());
    assert!(!policy.enforce("compute:servers:delete", &c, &own).unwrap());
    assert!(!policy.enforce("compute:shelve", &c, &own).unwrap());
    assert!(
        policy
            .enforce("compute:list", &Credentials::default(), &Target::new())
            .unwrap()
    );
    assert!(
        policy
            .enforce("compute:flavors", &Credentials::default(), &Target::new())
            .unwrap()
    );
    assert!(policy.unknown_overrides().is_empty());
}

#[test]
fn actions_are_listed_sorted_with_helpers() {
    let policy = Policy::load(DEFAULTS, None).unwrap();
    let names: Vec<&str> = policy.actions().collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 8);
    assert!(names.contains(&"admin_or_owner") && names.contains(&"compute:shelve"));
    assert!(policy.contains("owner") && !policy.contains("nope"));
}

#[test]
fn an_unknown_action_is_an_error_that_callers_treat_as_deny() {
    let policy = Policy::load(DEFAULTS, None).unwrap();
    let admin = Credentials {
        roles: vec!["admin".into()],
        ..Credentials::default()
    };
    let result = policy.enforce("compute:servers:reboot", &admin, &Target::new());
    assert!(matches!(&result, Err(PolicyError::UnknownAction(a)) if a == "compute:servers:reboot"));
    // The caller's pattern: log the gap, refuse the request.
    let allowed = result.unwrap_or_else(|e| {
        assert_eq!(
            e.to_string(),
            "no policy rule is named \"compute:servers:reboot\""
        );
        false
    });
    assert!(!allowed);
}

#[test]
fn an_override_replaces_the_default_of_the_same_name() {
    let overrides = r#"
"compute:servers:delete": "rule:admin_or_owner and role:member"
"compute:shelve": "@"
"#;
    let policy = Policy::load(DEFAULTS, Some(overrides)).unwrap();
    let (c, own, other) = (member_of("p1"), server_in("p1"), server_in("p2"));
    assert!(policy.enforce("compute:servers:delete", &c, &own).unwrap());
    assert!(
        !policy
            .enforce("compute:servers:delete", &c, &other)
            .unwrap()
    );
    assert!(policy.enforce("compute:shelve", &c, &own).unwrap());
    assert!(policy.unknown_overrides().is_empty());
    assert_eq!(policy.actions().len(), 8);
}

#[test]
fn overriding_a_helper_changes_every_rule_using_it() {
    let policy = Policy::load(DEFAULTS, Some(r#""admin_required": "role:cloud_admin""#)).unwrap();
    let cloud_admin = Credentials {
        roles: vec!["Cloud_Admin".into()],
        ..Credentials::default()
    };
    assert!(
        policy
            .enforce("compute:servers:get", &cloud_admin, &server_in("p9"))
            .unwrap()
    );
    assert!(
        policy
            .enforce("compute:servers:delete", &cloud_admin, &server_in("p9"))
            .unwrap()
    );
}

#[test]
fn overrides_without_a_default_are_kept_and_listed() {
    let overrides = r#"
"zz_helper": "role:ops"
"compute:servers:delete": "rule:zz_helper"
"compute:serverz:delete": "!"
"#;
    let policy = Policy::load(DEFAULTS, Some(overrides)).unwrap();
    assert_eq!(
        policy.unknown_overrides(),
        ["compute:serverz:delete", "zz_helper"]
    );
    let ops = Credentials {
        roles: vec!["ops".into()],
        ..Credentials::default()
    };
    assert!(
        policy
            .enforce("compute:servers:delete", &ops, &Target::new())
            .unwrap()
    );
    assert!(policy.enforce("zz_helper", &ops, &Target::new()).unwrap());
}

#[test]
fn empty_or_comment_only_overrides_change_nothing() {
    for overrides in ["", "# all defaults\n", "---\n", "{}"] {
        let policy = Policy::load(DEFAULTS, Some(overrides)).unwrap();
        assert_eq!(policy.actions().len(), 8, "{overrides:?}");
    }
}

#[test]
fn a_malformed_rule_is_refused_naming_the_rule_and_token() {
    let cases = [
        (
            "(role:admin or role:member",
            ParseErrorKind::UnclosedParen,
            "(",
        ),
        ("role:admin and", ParseErrorKind::MissingOperand, "and"),
        ("role:admin or foo", ParseErrorKind::NotACheck, "foo"),
        ("role:admin)", ParseErrorKind::UnmatchedParen, ")"),
    ];
    for (rule, kind, token) in cases {
        let overrides = format!("\"compute:servers:get\": \"{rule}\"");
        match load_err(DEFAULTS, Some(&overrides)) {
            PolicyError::Parse {
                origin: Origin::Overrides,
                rule: name,
                source,
            } => {
                assert_eq!(name, "compute:servers:get");
                assert_eq!(
                    (source.kind, source.token.as_str()),
                    (kind, token),
                    "{rule}"
                );
            }
            other => panic!("{rule}: {other:?}"),
        }
    }
    let e = load_err(DEFAULTS, Some(r#""compute:list": "role:admin or foo""#));
    assert_eq!(
        e.to_string(),
        "rule \"compute:list\" in the operator policy overrides does not parse"
    );
    let source = e.source().map(ToString::to_string).unwrap_or_default();
    assert!(source.ends_with("at column 15 (`foo`)"), "{source}");
}

#[test]
fn a_reference_to_a_missing_rule_names_both_rules() {
    let e = load_err(r#""a": "role:x or rule:ghost""#, None);
    assert!(
        matches!(&e, PolicyError::MissingRule { origin: Origin::Defaults, rule, missing }
        if rule == "a" && missing == "ghost")
    );
    assert!(e.to_string().contains("\"ghost\""));
}

#[test]
fn cycles_are_refused_naming_the_cycle() {
    let e = load_err(r#""a": "rule:a""#, None);
    assert!(matches!(&e, PolicyError::Cycle { cycle } if cycle == &["a", "a"]));
    let e = load_err(
        r#"
"a": "role:x or rule:b"
"b": "not rule:c"
"c": "(role:y and rule:a)"
"d": "rule:a"
"#,
        None,
    );
    assert!(
        matches!(&e, PolicyError::Cycle { cycle } if cycle == &["a", "b", "c", "a"]),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "rules refer to each other in a cycle: a -> b -> c -> a"
    );
}

#[test]
fn an_override_can_close_a_cycle() {
    let e = load_err(DEFAULTS, Some(r#""admin_required": "rule:admin_or_owner""#));
    let PolicyError::Cycle { cycle } = e else {
        panic!("{e:?}")
    };
    assert_eq!(
        cycle,
        ["admin_or_owner", "admin_required", "admin_or_owner"]
    );
}

#[test]
fn shared_references_are_not_cycles() {
    let policy = Policy::load(
        r#"
"base": "role:x"
"left": "rule:base"
"right": "rule:base and rule:base"
"top": "rule:left or rule:right"
"#,
        None,
    )
    .unwrap();
    let x = Credentials {
        roles: vec!["x".into()],
        ..Credentials::default()
    };
    assert!(policy.enforce("top", &x, &Target::new()).unwrap());
}

#[test]
fn reference_chains_are_bounded() {
    let chain = |n: usize| -> String {
        let mut yaml = String::from("\"r0\": \"@\"\n");
        for i in 1..=n {
            yaml.push_str(&format!("\"r{i}\": \"rule:r{}\"\n", i - 1));
        }
        yaml
    };
    assert!(Policy::load(&chain(graph::MAX_DEPTH), None).is_ok());
    let e = load_err(&chain(graph::MAX_DEPTH + 1), None);
    assert!(matches!(e, PolicyError::TooDeep { .. }), "{e:?}");
}

#[test]
fn documents_that_are_not_string_mappings_are_refused() {
    let e = load_err(r#""a": ["role:x"]"#, None);
    assert!(
        matches!(&e, PolicyError::NotAString { origin: Origin::Defaults, rule } if rule == "a")
    );
    let e = load_err(DEFAULTS, Some("\"compute:list\": true"));
    assert!(
        matches!(&e, PolicyError::NotAString { origin: Origin::Overrides, rule } if rule == "compute:list")
    );
    let e = load_err(DEFAULTS, Some("\"compute:list\":"));
    assert!(matches!(&e, PolicyError::NotAString { .. }), "{e:?}");
    assert!(matches!(
        load_err("- a\n- b", None),
        PolicyError::NotAMapping {
            origin: Origin::Defaults
        }
    ));
    assert!(matches!(
        load_err("1: \"@\"", None),
        PolicyError::BadRuleName { .. }
    ));
    assert!(matches!(
        load_err(DEFAULTS, Some("\"a\": [")),
        PolicyError::Yaml {
            origin: Origin::Overrides,
            ..
        }
    ));
    // Two rules of the same name in one file: the YAML layer refuses it.
    assert!(matches!(
        load_err("\"a\": \"@\"\n\"a\": \"!\"", None),
        PolicyError::Yaml { .. }
    ));
}

#[test]
fn from_file_reads_overrides_and_names_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, "\"compute:shelve\": \"role:member\"\n").unwrap();
    let policy = Policy::from_file(DEFAULTS, &path).unwrap();
    assert!(
        policy
            .enforce("compute:shelve", &member_of("p1"), &Target::new())
            .unwrap()
    );

    let missing = dir.path().join("absent.yaml");
    let e = Policy::from_file(DEFAULTS, &missing).unwrap_err();
    assert!(matches!(&e, PolicyError::Read { path, .. } if path == &missing));
    assert!(e.to_string().contains("absent.yaml"), "{e}");
}

#[test]
fn a_policy_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
    assert_send_sync::<PolicyError>();
}
