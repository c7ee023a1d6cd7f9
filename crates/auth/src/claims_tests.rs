use super::*;
use crate::test_support::{ISSUER, NOW, claims, user};

#[test]
fn new_fills_id_times_and_one_audit_id() {
    let c = claims();
    assert_eq!(c.iat, NOW);
    assert_eq!(c.exp, NOW + 3600);
    assert_eq!(c.iss, ISSUER);
    assert_eq!(c.user_id(), "u1");
    assert_eq!(c.project_id(), Some("p1"));
    assert_eq!(c.audit_ids.len(), 1);
    assert_eq!(c.audit_ids[0].len(), 22);
    assert_eq!(c.audit_chain_id(), c.audit_ids[0]);
    assert_ne!(claims().jti, c.jti);
    assert!(c.has_role("member") && !c.has_role("admin"));
}

#[test]
fn rescoping_chains_audit_ids_and_never_extends_expiry() {
    let parent = claims();
    let child = TokenClaims::new(
        ISSUER,
        user(),
        Scope::Domain {
            id: "d1".into(),
            name: "D1".into(),
        },
        vec![],
        vec!["token".into()],
        NOW + 60,
        Duration::from_secs(3600),
    )
    .rescoped_from(&parent);
    assert_eq!(child.exp, parent.exp);
    assert_eq!(child.audit_ids.len(), 2);
    assert_eq!(child.audit_ids[1], parent.audit_ids[0]);
    assert_eq!(child.audit_chain_id(), parent.audit_chain_id());
    assert_eq!(child.project_id(), None);

    // Rescoping a rescoped token keeps the original chain id.
    let grandchild = claims().rescoped_from(&child);
    assert_eq!(grandchild.audit_chain_id(), parent.audit_ids[0]);
}

#[test]
fn wire_names_are_the_documented_compact_ones() {
    let c = claims().with_app_credential("ac1");
    let v = serde_json::to_value(&c).unwrap();
    for key in [
        "jti", "iss", "sub", "name", "udom", "scope", "roles", "amr", "iat", "exp", "appcred",
        "audit",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["scope"]["t"], "project");
    assert_eq!(v["scope"]["domain"]["id"], "default");
    assert!(
        serde_json::to_value(claims())
            .unwrap()
            .get("appcred")
            .is_none()
    );
}

#[test]
fn every_scope_round_trips() {
    for scope in [
        crate::test_support::project_scope("p9"),
        Scope::Domain {
            id: "d".into(),
            name: "D".into(),
        },
        Scope::System,
        Scope::Unscoped,
    ] {
        let mut c = claims();
        c.scope = scope;
        let back: TokenClaims = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
    let sys = serde_json::to_value(Scope::System).unwrap();
    assert_eq!(sys, serde_json::json!({"t": "system"}));
}

#[test]
fn unknown_fields_are_ignored_but_required_ones_are_not_optional() {
    let mut v = serde_json::to_value(claims()).unwrap();
    v["added_by_a_newer_release"] = serde_json::json!(1);
    assert!(serde_json::from_value::<TokenClaims>(v.clone()).is_ok());
    v.as_object_mut().unwrap().remove("exp");
    assert!(serde_json::from_value::<TokenClaims>(v).is_err());
}
