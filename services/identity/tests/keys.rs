//! The signing key ring as identity keeps it: created once, shared by
//! instances on one database, rotated on schedule with old tokens still
//! verifying, retired keys pruned once their tokens are dead.

#[macro_use]
mod common;

use std::time::Duration;

use chrono::Utc;
use virga_auth::{Jwks, NamedRef, Scope, TokenClaims, UserRef, Verifier, issue};
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::app::keys::KeyStore;

on_both!(rotation_keeps_old_tokens_valid, instances_share_one_ring);

fn claims(now: u64) -> TokenClaims {
    TokenClaims::new(
        "virga",
        UserRef {
            id: "u".into(),
            name: "u".into(),
            domain: NamedRef::new("default", "Default"),
        },
        Scope::Unscoped,
        vec![],
        vec!["password".into()],
        now,
        Duration::from_secs(3600),
    )
}

fn unix_now() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap()
}

async fn rotation_keeps_old_tokens_valid(db: &DatabaseConnection) {
    let store = KeyStore::open(db).await.unwrap();
    let old = issue(&store.ring(), &claims(unix_now())).unwrap();
    let first_kid = store.ring().current().kid().to_string();

    // Not due yet: nothing changes.
    let day = Duration::from_secs(86_400);
    let done = store.maintain(db, day, day, Utc::now()).await.unwrap();
    assert!(!done.rotated && !done.changed);

    let done = store
        .maintain(db, Duration::ZERO, day, Utc::now())
        .await
        .unwrap();
    assert!(done.rotated && done.changed);
    let ring = store.ring();
    assert_ne!(ring.current().kid(), first_kid);
    assert_eq!(ring.retired()[0].key.kid(), first_kid);
    let verifier = Verifier::new("virga", &Jwks::from_key_ring(&ring)).unwrap();
    verifier
        .verify(&old, unix_now())
        .expect("a token of the retired key still verifies");
    let new = issue(&ring, &claims(unix_now())).unwrap();
    verifier.verify(&new, unix_now()).unwrap();

    // Once every token of the retired key has expired, the key goes.
    let later = Utc::now() + chrono::Duration::days(2);
    let done = store.maintain(db, day * 10, day, later).await.unwrap();
    assert_eq!(done.pruned, 1);
    assert!(done.changed);
    let verifier = Verifier::new("virga", &store.jwks()).unwrap();
    assert!(verifier.verify(&old, unix_now()).is_err());
}

async fn instances_share_one_ring(db: &DatabaseConnection) {
    let a = KeyStore::open(db).await.unwrap();
    let b = KeyStore::open(db).await.unwrap();
    assert_eq!(
        a.jwks(),
        b.jwks(),
        "the second instance loads the first's ring"
    );
    a.maintain(db, Duration::ZERO, Duration::from_secs(60), Utc::now())
        .await
        .unwrap();
    // b rotates on a stale view: the conditional update refuses, and b
    // reloads a's ring instead of forking its own.
    let done = b
        .maintain(db, Duration::ZERO, Duration::from_secs(60), Utc::now())
        .await
        .unwrap();
    assert!(done.changed);
    let after_a = KeyStore::open(db).await.unwrap();
    assert_eq!(b.jwks(), after_a.jwks());
}
