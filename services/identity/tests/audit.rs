//! Audit store: record, and list by each filter and limit, newest first.

#[macro_use]
mod common;

use std::time::Duration;

use serde_json::json;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::audit::{self, AuditFilter, NewAuditEvent};
use virga_identity::db::now;

on_both!(record_and_list);
on_both!(a_grant_target_is_longer_than_an_id);

/// Lets `now()` move on, so events get distinct, ordered timestamps.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

fn event(action: &str, outcome: &str, target_id: &str) -> NewAuditEvent {
    NewAuditEvent {
        action: action.into(),
        outcome: outcome.into(),
        target_type: "project".into(),
        target_id: target_id.into(),
        detail: json!({}),
        ..Default::default()
    }
}

async fn record_and_list(db: &DatabaseConnection) {
    let before = now();
    let created = audit::record(
        db,
        NewAuditEvent {
            initiator_user_id: Some("u1".into()),
            initiator_project_id: Some("admin".into()),
            request_id: Some("req-1".into()),
            detail: json!({"name": "p1", "tags": ["a", "b"], "enabled": true}),
            ..event("identity.project.created", "success", "p1")
        },
    )
    .await
    .unwrap();
    assert!(created.at >= before);
    assert_eq!(created.action, "identity.project.created");
    assert_eq!(created.outcome, "success");
    assert_eq!(created.initiator_user_id.as_deref(), Some("u1"));
    assert_eq!(created.initiator_project_id.as_deref(), Some("admin"));
    assert_eq!(created.target_type, "project");
    assert_eq!(created.target_id, "p1");
    assert_eq!(created.request_id.as_deref(), Some("req-1"));
    assert_eq!(
        created.detail_json().unwrap(),
        json!({"name": "p1", "tags": ["a", "b"], "enabled": true})
    );
    tick().await;
    let failed = audit::record(db, event("identity.project.deleted", "failure", "p1"))
        .await
        .unwrap();
    assert_eq!(failed.initiator_user_id, None);
    assert_eq!(failed.request_id, None);
    assert_eq!(failed.detail_json().unwrap(), json!({}));
    tick().await;
    let user = audit::record(
        db,
        NewAuditEvent {
            target_type: "user".into(),
            ..event("identity.user.created", "success", "u2")
        },
    )
    .await
    .unwrap();
    tick().await;
    let p2 = audit::record(db, event("identity.project.created", "success", "p2"))
        .await
        .unwrap();

    let list =
        |f: AuditFilter, limit: u64| async move { audit::list(db, &f, limit).await.unwrap() };

    // Newest first, read back exactly as recorded.
    assert_eq!(
        list(AuditFilter::default(), 100).await,
        vec![p2.clone(), user.clone(), failed.clone(), created.clone()]
    );
    // The limit keeps the newest.
    assert_eq!(
        list(AuditFilter::default(), 2).await,
        vec![p2.clone(), user.clone()]
    );
    assert!(list(AuditFilter::default(), 0).await.is_empty());

    let by_action = AuditFilter {
        action: Some("identity.project.created".into()),
        ..Default::default()
    };
    assert_eq!(
        list(by_action.clone(), 100).await,
        vec![p2.clone(), created.clone()]
    );
    assert_eq!(list(by_action, 1).await, vec![p2.clone()]);

    let by_target = AuditFilter {
        target_id: Some("p1".into()),
        ..Default::default()
    };
    assert_eq!(
        list(by_target, 100).await,
        vec![failed.clone(), created.clone()]
    );

    // `since` is inclusive.
    let since_user = AuditFilter {
        since: Some(user.at),
        ..Default::default()
    };
    assert_eq!(list(since_user, 100).await, vec![p2.clone(), user.clone()]);
    let future = AuditFilter {
        since: Some(now() + chrono::TimeDelta::hours(1)),
        ..Default::default()
    };
    assert!(list(future, 100).await.is_empty());

    // Filters combine.
    let combined = AuditFilter {
        action: Some("identity.project.created".into()),
        target_id: Some("p1".into()),
        since: Some(before),
    };
    assert_eq!(list(combined, 100).await, vec![created.clone()]);
    let none = AuditFilter {
        action: Some("identity.project.created".into()),
        target_id: Some("p1".into()),
        since: Some(failed.at),
    };
    assert!(list(none, 100).await.is_empty());
}

/// A grant's target names a user or group, a project or domain and a role
/// (PostgreSQL refused these while the column was an id's width).
async fn a_grant_target_is_longer_than_an_id(db: &DatabaseConnection) {
    let grant = format!(
        "user:{}/project:{}/{}",
        "u".repeat(64),
        "p".repeat(64),
        "r".repeat(64)
    );
    let g = audit::record(db, event("identity:create_grant", "success", &grant))
        .await
        .unwrap();
    assert_eq!(g.target_id, grant);
    let by_target = AuditFilter {
        target_id: Some(grant.clone()),
        ..Default::default()
    };
    assert_eq!(audit::list(db, &by_target, 10).await.unwrap(), vec![g]);
}
