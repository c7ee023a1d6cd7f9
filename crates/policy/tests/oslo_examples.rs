//! The examples of oslo.policy's "The policy.yaml file" documentation and
//! Keystone-style defaults, through the public API, so a behaviour change
//! against oslo shows up here.

use virga_policy::{Credentials, ParseErrorKind, Policy, PolicyError, Target};

fn with_roles(roles: &[&str]) -> Credentials {
    Credentials {
        user_id: Some("u1".into()),
        project_id: Some("p1".into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ..Credentials::default()
    }
}

fn allowed(policy: &Policy, action: &str, creds: &Credentials, target: &Target) -> bool {
    policy
        .enforce(action, creds, target)
        .unwrap_or_else(|e| panic!("{action}: {e}"))
}

const DOC_EXAMPLES: &str = r#"
"compute:get_all" : ""
"compute:shelve": "!"
"copy_image": "'shared':%(visibility)s"
"identity:create_user" : "role:admin"
"deny_stack_user": "not role:heat_stack_user"
"stacks:create": "rule:deny_stack_user"
"os_compute_api:servers:start" : "project_id:%(project_id)s"
"admin_required": "role:admin"
"owner" : "user_id:%(user_id)s"
"admin_or_owner": "rule:admin_required or rule:owner"
"identity:change_password": "rule:admin_or_owner"
"identity:ec2_delete_credential": "rule:admin_required or
             (rule:owner and user_id:%(target.credential.user_id)s)"
"projectadmin_or_admin": "role:admin or (project_id:%(project_id)s and role:projectadmin)"
"#;

#[test]
fn the_documented_examples_mean_what_the_documentation_says() {
    let p = Policy::load(DOC_EXAMPLES, None).unwrap();
    let nobody = Credentials::default();
    let member = with_roles(&["member"]);
    let admin = with_roles(&["Admin"]);
    let empty = Target::new();

    assert!(allowed(&p, "compute:get_all", &nobody, &empty));
    assert!(!allowed(&p, "compute:shelve", &admin, &empty));
    assert!(allowed(
        &p,
        "copy_image",
        &nobody,
        &Target::new().with("visibility", "shared")
    ));
    assert!(!allowed(
        &p,
        "copy_image",
        &admin,
        &Target::new().with("visibility", "private")
    ));
    assert!(allowed(&p, "identity:create_user", &admin, &empty));
    assert!(!allowed(&p, "identity:create_user", &member, &empty));
    assert!(allowed(&p, "stacks:create", &member, &empty));
    assert!(!allowed(
        &p,
        "stacks:create",
        &with_roles(&["Heat_Stack_User"]),
        &empty
    ));

    let own = Target::new().with("project_id", "p1").with("user_id", "u1");
    let foreign = Target::new().with("project_id", "p2").with("user_id", "u2");
    assert!(allowed(&p, "os_compute_api:servers:start", &member, &own));
    assert!(!allowed(
        &p,
        "os_compute_api:servers:start",
        &member,
        &foreign
    ));
    assert!(allowed(&p, "identity:change_password", &member, &own));
    assert!(!allowed(&p, "identity:change_password", &member, &foreign));
    assert!(allowed(&p, "identity:change_password", &admin, &foreign));

    // The multi-line rule: YAML folds the line break into a space.
    let cred_of = |owner: &str, credential_user: &str| {
        Target::new()
            .with("user_id", owner)
            .with("target.credential.user_id", credential_user)
    };
    assert!(allowed(
        &p,
        "identity:ec2_delete_credential",
        &member,
        &cred_of("u1", "u1")
    ));
    assert!(!allowed(
        &p,
        "identity:ec2_delete_credential",
        &member,
        &cred_of("u1", "u2")
    ));
    assert!(allowed(
        &p,
        "identity:ec2_delete_credential",
        &admin,
        &cred_of("u2", "u2")
    ));

    let projectadmin = with_roles(&["projectadmin"]);
    assert!(allowed(&p, "projectadmin_or_admin", &projectadmin, &own));
    assert!(!allowed(
        &p,
        "projectadmin_or_admin",
        &projectadmin,
        &foreign
    ));
    assert!(!allowed(&p, "projectadmin_or_admin", &member, &own));
    assert!(allowed(&p, "projectadmin_or_admin", &admin, &foreign));
}

/// Keystone's scope-aware defaults: system readers everywhere, domain
/// readers within their domain.
#[test]
fn keystone_style_scoped_rules() {
    let p = Policy::load(
        r#"
"admin_required": "role:admin"
"system_reader": "role:reader and system_scope:all"
"domain_reader": "role:reader and domain_id:%(target.user.domain_id)s"
"identity:get_user": "rule:system_reader or rule:domain_reader or user_id:%(target.user.id)s"
"#,
        None,
    )
    .unwrap();
    let system = Credentials {
        system_scope: Some("all".into()),
        roles: vec!["reader".into()],
        ..Credentials::default()
    };
    let domain = Credentials {
        domain_id: Some("d1".into()),
        roles: vec!["reader".into()],
        ..Credentials::default()
    };
    let user_in = |d: &str| {
        Target::new()
            .with("target.user.domain_id", d)
            .with("target.user.id", "u9")
    };
    assert!(allowed(&p, "identity:get_user", &system, &user_in("d2")));
    assert!(allowed(&p, "identity:get_user", &domain, &user_in("d1")));
    assert!(!allowed(&p, "identity:get_user", &domain, &user_in("d2")));
    // A project-scoped reader has no domain_id: never equal to the target's.
    assert!(!allowed(
        &p,
        "identity:get_user",
        &with_roles(&["reader"]),
        &user_in("d1")
    ));
    // A user without a domain in the target is absent, not a match for anyone.
    let no_domain = Target::new().with_opt("target.user.domain_id", None::<String>);
    assert!(!allowed(&p, "identity:get_user", &domain, &no_domain));
}

#[test]
fn oslo_checks_outside_the_subset_are_refused_at_load() {
    // Keystone's old `is_admin:1` has no credential attribute here.
    let e = Policy::load(r#""admin_required": "role:admin or is_admin:1""#, None).unwrap_err();
    match e {
        PolicyError::Parse { rule, source, .. } => {
            assert_eq!(rule, "admin_required");
            assert_eq!(source.kind, ParseErrorKind::UnknownAttribute);
            assert_eq!((source.token.as_str(), source.column), ("is_admin:1", 15));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn json_policy_files_load_too() {
    let p = Policy::load(r#"{"a": "role:x", "b": "not rule:a"}"#, None).unwrap();
    assert!(allowed(&p, "b", &with_roles(&["y"]), &Target::new()));
    assert!(!allowed(&p, "b", &with_roles(&["X"]), &Target::new()));
}
