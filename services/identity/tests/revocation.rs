//! Revocation store: record, the events still in force, pruning.

#[macro_use]
mod common;

use std::time::Duration;

use chrono::TimeDelta;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::now;
use virga_identity::db::revocation;

on_both!(record_active_prune, events_round_trip);

/// Lets `now()` move on, so rows get distinct, ordered timestamps.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

fn ids(events: &[revocation::Model]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

async fn record_active_prune(db: &DatabaseConnection) {
    let t0 = now();
    let hour = TimeDelta::hours(1);

    let before = now();
    let token = revocation::record(db, "token", "tok1", None, Some(t0 + hour))
        .await
        .unwrap();
    assert_eq!(token.kind, "token");
    assert_eq!(token.subject, "tok1");
    assert_eq!(token.issued_before, None);
    assert_eq!(token.expires_at, Some(t0 + hour));
    assert!(token.created_at >= before);
    tick().await;
    // No expiry: in force for ever.
    let user = revocation::record(db, "user", "u1", Some(t0), None)
        .await
        .unwrap();
    assert_eq!(user.issued_before, Some(t0));
    assert_eq!(user.expires_at, None);
    tick().await;
    let project = revocation::record(db, "project", "p1", Some(t0), Some(t0 + hour * 2))
        .await
        .unwrap();
    tick().await;
    // Already expired when recorded.
    let stale = revocation::record(db, "token", "tok0", None, Some(t0 - hour))
        .await
        .unwrap();

    // In force now: all but the stale one, oldest first, as recorded.
    assert_eq!(
        revocation::active(db, t0).await.unwrap(),
        vec![token.clone(), user.clone(), project.clone()]
    );
    // Before the stale one expired, it was in force too.
    assert_eq!(
        ids(&revocation::active(db, t0 - hour * 2).await.unwrap()),
        [
            token.id.as_str(),
            user.id.as_str(),
            project.id.as_str(),
            stale.id.as_str()
        ]
    );
    // An event is no longer in force at its expiry instant.
    assert_eq!(
        ids(&revocation::active(db, t0 + hour).await.unwrap()),
        [user.id.as_str(), project.id.as_str()]
    );
    assert_eq!(
        ids(&revocation::active(db, t0 + hour * 3).await.unwrap()),
        [user.id.as_str()]
    );

    // Prune drops what expired by then, never an event without expiry.
    assert_eq!(revocation::prune(db, t0).await.unwrap(), 1);
    assert_eq!(
        ids(&revocation::active(db, t0 - hour * 2).await.unwrap()),
        [token.id.as_str(), user.id.as_str(), project.id.as_str()]
    );
    // At the expiry instant the event goes.
    assert_eq!(revocation::prune(db, t0 + hour).await.unwrap(), 1);
    assert_eq!(
        ids(&revocation::active(db, t0 - hour * 2).await.unwrap()),
        [user.id.as_str(), project.id.as_str()]
    );
    assert_eq!(revocation::prune(db, t0 + hour * 100).await.unwrap(), 1);
    assert_eq!(
        revocation::active(db, t0 + hour * 100).await.unwrap(),
        vec![user.clone()]
    );
    assert_eq!(revocation::prune(db, t0 + hour * 100).await.unwrap(), 0);
}

/// Every kind of event comes back from the store as it went in, user and
/// project times to the millisecond, with an expiry after which it can go.
async fn events_round_trip(db: &DatabaseConnection) {
    use virga_auth::RevocationEvent;
    let events = [
        RevocationEvent::Token {
            jti: uuid::Uuid::new_v4(),
            expires_at: 1_900_000_000,
        },
        RevocationEvent::AuditId {
            audit_id: "a1".into(),
            expires_at: 1_900_000_000,
        },
        RevocationEvent::User {
            user_id: "u1".into(),
            issued_before_ms: 1_800_000_000_123,
        },
        RevocationEvent::Project {
            project_id: "p1".into(),
            issued_before_ms: 1_800_000_000_456,
        },
    ];
    let life = Duration::from_secs(3600);
    for e in &events {
        let row = revocation::record_event(db, e, life).await.unwrap();
        assert_eq!(&revocation::to_event(&row).unwrap(), e);
        assert!(
            row.expires_at.is_some(),
            "every event can be pruned one day"
        );
    }
    let user_row = revocation::record_event(db, &events[2], life)
        .await
        .unwrap();
    assert_eq!(
        user_row.expires_at.unwrap().timestamp(),
        1_800_000_000 + 3600 + virga_auth::LEEWAY_SECS as i64
    );
}
