//! Signing key store: the key ring's insert, order, state moves, pruning of
//! retired keys, and the redacted Debug.

#[macro_use]
mod common;

use std::time::Duration;

use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::now;
use virga_identity::db::signing_key::{self, KeyState};

on_both!(
    ring_and_states,
    prune_retired,
    one_live_key_per_state,
    rotate_is_conditional
);

const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPRIVATEKEYBYTES\n-----END PRIVATE KEY-----\n";

/// Lets `now()` move on, so rows get distinct, ordered timestamps.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

fn kids(keys: &[signing_key::Model]) -> Vec<&str> {
    keys.iter().map(|k| k.kid.as_str()).collect()
}

async fn ring_and_states(db: &DatabaseConnection) {
    let before = now();
    let old = signing_key::insert(db, "k0", PEM, KeyState::Retired)
        .await
        .unwrap();
    tick().await;
    let cur = signing_key::insert(db, "k1", PEM, KeyState::Current)
        .await
        .unwrap();
    tick().await;
    let next = signing_key::insert(db, "k2", PEM, KeyState::Next)
        .await
        .unwrap();

    assert_eq!(old.state, KeyState::Retired);
    let retired_at = old.retired_at.expect("inserting a retired key stamps it");
    assert!(retired_at >= before);
    assert_eq!(cur.kid, "k1");
    assert_eq!(cur.pem, PEM);
    assert_eq!(cur.state, KeyState::Current);
    assert_eq!(cur.retired_at, None);
    assert_eq!(next.state, KeyState::Next);
    assert_eq!(next.retired_at, None);
    assert!(old.created_at < cur.created_at && cur.created_at < next.created_at);

    // Oldest first, and read back exactly as inserted.
    assert_eq!(
        signing_key::list(db).await.unwrap(),
        vec![old.clone(), cur.clone(), next.clone()]
    );

    assert!(matches!(
        signing_key::insert(db, "k1", PEM, KeyState::Next).await,
        Err(Error::Conflict(_))
    ));

    // Rotation: current retires (stamped), next becomes current.
    let before = now();
    let retired = signing_key::set_state(db, "k1", KeyState::Retired)
        .await
        .unwrap();
    assert_eq!(retired.state, KeyState::Retired);
    assert!(retired.retired_at.unwrap() >= before);
    assert_eq!(retired.pem, PEM);
    assert_eq!(retired.created_at, cur.created_at);
    // Retiring it again keeps the first stamp: pruning is never postponed.
    tick().await;
    let again = signing_key::set_state(db, "k1", KeyState::Retired)
        .await
        .unwrap();
    assert_eq!(again.retired_at, retired.retired_at);
    let promoted = signing_key::set_state(db, "k2", KeyState::Current)
        .await
        .unwrap();
    assert_eq!(promoted.state, KeyState::Current);
    assert_eq!(promoted.retired_at, None);
    assert_eq!(
        signing_key::list(db).await.unwrap(),
        vec![old.clone(), retired.clone(), promoted.clone()]
    );

    // Bringing a retired key back clears its stamp.
    let back = signing_key::set_state(db, "k0", KeyState::Next)
        .await
        .unwrap();
    assert_eq!(back.state, KeyState::Next);
    assert_eq!(back.retired_at, None);

    assert!(matches!(
        signing_key::set_state(db, "ghost", KeyState::Current).await,
        Err(Error::NotFound {
            kind: "signing key",
            ..
        })
    ));

    // Debug never shows the private key.
    let shown = format!("{cur:?}");
    assert!(!shown.contains("PRIVATEKEYBYTES"), "Debug hides the PEM");
    assert!(!shown.contains("BEGIN PRIVATE KEY"), "Debug hides the PEM");
    assert!(shown.contains("k1"), "Debug still shows the kid: {shown}");
}

async fn prune_retired(db: &DatabaseConnection) {
    signing_key::insert(db, "cur", PEM, KeyState::Current)
        .await
        .unwrap();
    signing_key::insert(db, "next", PEM, KeyState::Next)
        .await
        .unwrap();
    signing_key::insert(db, "early", PEM, KeyState::Retired)
        .await
        .unwrap();
    tick().await;
    let cutoff = now();
    tick().await;
    signing_key::insert(db, "late", PEM, KeyState::Retired)
        .await
        .unwrap();

    // Nothing was retired an hour before the cut-off.
    assert_eq!(
        signing_key::prune_retired(db, cutoff - chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(signing_key::list(db).await.unwrap().len(), 4);

    // Only the key retired before the cut-off goes.
    assert_eq!(signing_key::prune_retired(db, cutoff).await.unwrap(), 1);
    let mut left = signing_key::list(db).await.unwrap();
    left.sort_by(|a, b| a.kid.cmp(&b.kid));
    assert_eq!(kids(&left), ["cur", "late", "next"]);

    // A later cut-off takes the other retired key, never a live one, however old.
    let later = now() + chrono::Duration::hours(1);
    assert_eq!(signing_key::prune_retired(db, later).await.unwrap(), 1);
    let mut left = signing_key::list(db).await.unwrap();
    left.sort_by(|a, b| a.kid.cmp(&b.kid));
    assert_eq!(kids(&left), ["cur", "next"]);
    assert_eq!(left[0].state, KeyState::Current);
    assert_eq!(left[1].state, KeyState::Next);
    assert_eq!(signing_key::prune_retired(db, later).await.unwrap(), 0);
}

async fn one_live_key_per_state(db: &DatabaseConnection) {
    signing_key::insert(db, "a", PEM, KeyState::Current)
        .await
        .unwrap();
    let second = signing_key::insert(db, "b", PEM, KeyState::Current).await;
    assert!(
        matches!(second, Err(virga_common::Error::Conflict(_))),
        "a second current key is refused: {second:?}"
    );
    // Any number of retired keys may coexist.
    for kid in ["r1", "r2"] {
        signing_key::insert(db, kid, PEM, KeyState::Retired)
            .await
            .unwrap();
    }
}

async fn rotate_is_conditional(db: &DatabaseConnection) {
    signing_key::insert(db, "k1", PEM, KeyState::Current)
        .await
        .unwrap();
    signing_key::insert(db, "k2", PEM, KeyState::Next)
        .await
        .unwrap();
    assert!(
        signing_key::rotate(db, "k1", "k2", "k3", PEM)
            .await
            .unwrap()
    );
    let mut keys = signing_key::list(db).await.unwrap();
    keys.sort_by(|a, b| a.kid.cmp(&b.kid));
    let states: Vec<_> = keys.iter().map(|k| (k.kid.as_str(), k.state)).collect();
    assert_eq!(
        states,
        [
            ("k1", KeyState::Retired),
            ("k2", KeyState::Current),
            ("k3", KeyState::Next)
        ]
    );
    assert!(keys[0].retired_at.is_some());
    // A second instance that still believes k1 is current changes nothing.
    assert!(
        !signing_key::rotate(db, "k1", "k2", "k4", PEM)
            .await
            .unwrap()
    );
    assert_eq!(signing_key::list(db).await.unwrap().len(), 3);
}
