use super::*;
use crate::test_support::{NOW, claims, project_scope};

#[test]
fn nothing_is_revoked_at_first() {
    let list = RevocationList::new();
    assert!(list.is_empty());
    assert!(!list.is_revoked(&claims()));
}

#[test]
fn revoking_a_token_id_revokes_only_that_token() {
    let list = RevocationList::new();
    let (a, b) = (claims(), claims());
    list.revoke_token(a.jti, a.exp);
    assert!(list.is_revoked(&a));
    assert!(!list.is_revoked(&b));
}

#[test]
fn revoking_an_audit_id_revokes_the_token_and_its_rescoped_children() {
    let list = RevocationList::new();
    let parent = claims();
    let child = claims().rescoped_from(&parent);
    let other = claims();
    list.revoke_audit_id(parent.audit_ids[0].clone(), parent.exp);
    assert!(list.is_revoked(&parent));
    assert!(list.is_revoked(&child));
    assert!(!list.is_revoked(&other));
}

const NOW_MS: u64 = NOW * 1000 + 400;

#[test]
fn user_revocation_covers_tokens_issued_at_or_before_the_time() {
    let list = RevocationList::new();
    list.revoke_user("u1", NOW_MS);
    let c = claims();
    assert!(
        list.is_revoked(&c),
        "a token without milliseconds counts as the start of its second"
    );
    assert!(
        list.is_revoked(&claims().issued_at(NOW_MS)),
        "the same millisecond"
    );
    assert!(list.is_revoked(&claims().issued_at(NOW_MS - 100_000)));
    assert!(
        !list.is_revoked(&claims().issued_at(NOW_MS + 1)),
        "a login a millisecond later, in the same second, is fine"
    );
    let mut other = claims().issued_at(NOW_MS);
    other.sub = "u2".into();
    assert!(!list.is_revoked(&other), "other users are fine");
}

#[test]
fn issued_at_keeps_the_lifetime() {
    let c = claims();
    let life = c.exp - c.iat;
    let stamped = claims().issued_at(NOW_MS + 5_000);
    assert_eq!(stamped.iat, NOW + 5);
    assert_eq!(stamped.exp - stamped.iat, life);
    assert_eq!(stamped.issued_at_ms(), NOW_MS + 5_000);
}

#[test]
fn project_revocation_covers_only_tokens_scoped_to_it() {
    let list = RevocationList::new();
    list.revoke_project("p1", NOW_MS);
    let mut c = claims();
    assert!(list.is_revoked(&c));
    c.scope = project_scope("p2");
    assert!(!list.is_revoked(&c));
    c.scope = crate::Scope::System;
    assert!(!list.is_revoked(&c));
    let mut later = claims().issued_at(NOW_MS + 1);
    later.scope = project_scope("p1");
    assert!(!list.is_revoked(&later));
}

#[test]
fn events_are_idempotent_keep_the_later_time_and_round_trip() {
    let list = RevocationList::new();
    list.revoke_user("u1", NOW_MS);
    list.revoke_user("u1", NOW_MS - 500_000);
    list.revoke_user("u1", NOW_MS);
    assert_eq!(list.len(), 1);
    assert!(
        list.is_revoked(&claims()),
        "an older duplicate must not shrink the window"
    );

    let jti = uuid::Uuid::new_v4();
    list.revoke_token(jti, NOW + 10);
    list.revoke_project("p1", NOW_MS);
    list.revoke_audit_id("a1", NOW + 10);
    let events = list.events();
    assert_eq!(events.len(), 4);

    let copy = RevocationList::new();
    for e in events {
        let json = serde_json::to_string(&e).unwrap();
        copy.apply(serde_json::from_str(&json).unwrap());
    }
    let mut a = list.events();
    let mut b = copy.events();
    let key = |e: &RevocationEvent| serde_json::to_string(e).unwrap();
    a.sort_by_key(key);
    b.sort_by_key(key);
    assert_eq!(a, b);
    let wire = serde_json::to_value(RevocationEvent::User {
        user_id: "u1".into(),
        issued_before_ms: 5,
    })
    .unwrap();
    assert_eq!(
        wire,
        serde_json::json!({"kind": "user", "user_id": "u1", "issued_before_ms": 5})
    );
}

#[test]
fn prune_drops_only_entries_that_cannot_match_a_live_token() {
    let list = RevocationList::new();
    let life = Duration::from_secs(3600);
    list.revoke_token(uuid::Uuid::new_v4(), NOW);
    list.revoke_audit_id("a1", NOW);
    list.revoke_user("u1", NOW * 1000);
    list.revoke_project("p1", NOW * 1000);

    // Tokens are still accepted until exp + leeway.
    assert_eq!(list.prune(NOW + LEEWAY_SECS, life), 0);
    assert_eq!(list.prune(NOW + LEEWAY_SECS + 1, life), 2);
    // A token issued at NOW lives until NOW + life (+ leeway).
    assert_eq!(list.prune(NOW + 3600 + LEEWAY_SECS, life), 0);
    assert_eq!(list.prune(NOW + 3600 + LEEWAY_SECS + 1, life), 2);
    assert!(list.is_empty());
}
