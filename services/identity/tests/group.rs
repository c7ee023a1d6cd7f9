//! Group store: CRUD, filters, pagination, name uniqueness, memberships.

#[macro_use]
mod common;

use common::{all, page};
use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::domain::{self, NewDomain};
use virga_identity::db::group::{self, GroupFilter, GroupUpdate, NewGroup};
use virga_identity::db::user::{self, NewUser};

on_both!(crud_filters_pagination, memberships);

fn new(name: &str, domain_id: &str) -> NewGroup {
    NewGroup {
        name: name.into(),
        domain_id: domain_id.into(),
        ..Default::default()
    }
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        name: name.into(),
        domain_id: "default".into(),
        enabled: true,
        ..Default::default()
    }
}

async fn crud_filters_pagination(db: &DatabaseConnection) {
    let ops = group::create(
        db,
        NewGroup {
            description: Some("operators".into()),
            ..new("ops", "default")
        },
    )
    .await
    .unwrap();
    assert_eq!(ops.name, "ops");
    assert_eq!(ops.domain_id, "default");
    assert_eq!(ops.description.as_deref(), Some("operators"));
    assert_eq!(group::get(db, &ops.id).await.unwrap(), ops);
    assert!(matches!(
        group::get(db, "ghost").await,
        Err(Error::NotFound { kind: "group", .. })
    ));

    let dup = group::create(db, new("ops", "default")).await.unwrap_err();
    assert!(matches!(dup, Error::Conflict(_)));
    assert_eq!(
        dup.to_string(),
        "Conflict occurred attempting to store group - Duplicate entry."
    );
    assert!(matches!(
        group::create(db, new("x", "nodomain")).await,
        Err(Error::BadRequest(_))
    ));

    // The same name in another domain is fine.
    let d2 = domain::create(
        db,
        NewDomain {
            name: "d2".into(),
            enabled: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let ops2 = group::create(db, new("ops", &d2.id)).await.unwrap();
    let devs = group::create(db, new("devs", "default")).await.unwrap();

    let by = |f: GroupFilter| async move { group::list(db, &f, &all()).await.unwrap().items };
    let mut every = vec![ops.clone(), ops2.clone(), devs.clone()];
    every.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(by(GroupFilter::default()).await, every);
    let mut named_ops = vec![ops.clone(), ops2.clone()];
    named_ops.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        by(GroupFilter {
            name: Some("ops".into()),
            ..Default::default()
        })
        .await,
        named_ops
    );
    assert_eq!(
        by(GroupFilter {
            domain_id: Some(d2.id.clone()),
            ..Default::default()
        })
        .await,
        vec![ops2.clone()]
    );
    let mut in_default = vec![ops.clone(), devs.clone()];
    in_default.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        by(GroupFilter {
            domain_id: Some("default".into()),
            ..Default::default()
        })
        .await,
        in_default
    );
    assert_eq!(
        by(GroupFilter {
            name: Some("ops".into()),
            domain_id: Some("default".into()),
        })
        .await,
        vec![ops.clone()]
    );

    // Pagination: by id, two then one, the marker being the last id shown.
    let f = GroupFilter::default();
    let first = group::list(db, &f, &page(2, None)).await.unwrap();
    assert_eq!(first.items, every[..2]);
    assert_eq!(first.next_marker.as_deref(), Some(every[1].id.as_str()));
    let second = group::list(db, &f, &page(2, first.next_marker.as_deref()))
        .await
        .unwrap();
    assert_eq!(second.items, every[2..]);
    assert_eq!(second.next_marker, None);
    let exact = group::list(db, &f, &page(3, None)).await.unwrap();
    assert_eq!(exact.items, every);
    assert_eq!(exact.next_marker, None);
    assert!(matches!(
        group::list(db, &f, &page(2, Some("nomarker"))).await,
        Err(Error::NotFound { kind: "Marker", .. })
    ));

    // Update: rename, clear the description; a taken name is a conflict.
    let renamed = group::update(
        db,
        &ops.id,
        GroupUpdate {
            name: Some("operators".into()),
            description: Some(None),
        },
    )
    .await
    .unwrap();
    assert_eq!(renamed.name, "operators");
    assert_eq!(renamed.description, None);
    assert_eq!(renamed.domain_id, "default");
    assert_eq!(group::get(db, &ops.id).await.unwrap(), renamed);
    let described = group::update(
        db,
        &ops.id,
        GroupUpdate {
            description: Some(Some("night shift".into())),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(described.name, "operators", "an absent field is kept");
    assert_eq!(described.description.as_deref(), Some("night shift"));
    assert!(matches!(
        group::update(
            db,
            &ops.id,
            GroupUpdate {
                name: Some("devs".into()),
                ..Default::default()
            },
        )
        .await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        group::update(db, "ghost", GroupUpdate::default()).await,
        Err(Error::NotFound { kind: "group", .. })
    ));

    // Delete.
    group::delete(db, &ops.id).await.unwrap();
    assert!(matches!(
        group::get(db, &ops.id).await,
        Err(Error::NotFound { kind: "group", .. })
    ));
    assert!(matches!(
        group::delete(db, &ops.id).await,
        Err(Error::NotFound { kind: "group", .. })
    ));
    let mut left = vec![ops2, devs];
    left.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(by(GroupFilter::default()).await, left);
}

async fn memberships(db: &DatabaseConnection) {
    let alice = user::create(db, new_user("alice")).await.unwrap();
    let bob = user::create(db, new_user("bob")).await.unwrap();
    let ops = group::create(db, new("ops", "default")).await.unwrap();
    let devs = group::create(db, new("devs", "default")).await.unwrap();

    assert!(!group::is_member(db, &ops.id, &alice.id).await.unwrap());
    assert!(group::member_ids(db, &ops.id).await.unwrap().is_empty());
    assert!(group::groups_of(db, &alice.id).await.unwrap().is_empty());

    group::add_member(db, &ops.id, &alice.id).await.unwrap();
    // Idempotent: a second add neither fails nor duplicates.
    group::add_member(db, &ops.id, &alice.id).await.unwrap();
    group::add_member(db, &ops.id, &bob.id).await.unwrap();
    group::add_member(db, &devs.id, &alice.id).await.unwrap();

    assert!(group::is_member(db, &ops.id, &alice.id).await.unwrap());
    assert!(group::is_member(db, &ops.id, &bob.id).await.unwrap());
    assert!(!group::is_member(db, &devs.id, &bob.id).await.unwrap());
    let mut ops_members = group::member_ids(db, &ops.id).await.unwrap();
    ops_members.sort();
    let mut expected = vec![alice.id.clone(), bob.id.clone()];
    expected.sort();
    assert_eq!(ops_members, expected);
    assert_eq!(
        group::member_ids(db, &devs.id).await.unwrap(),
        vec![alice.id.clone()]
    );
    let mut alices = vec![ops.clone(), devs.clone()];
    alices.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(group::groups_of(db, &alice.id).await.unwrap(), alices);
    assert_eq!(
        group::groups_of(db, &bob.id).await.unwrap(),
        vec![ops.clone()]
    );
    assert!(group::groups_of(db, "nobody").await.unwrap().is_empty());

    // Unknown group or user.
    assert!(matches!(
        group::add_member(db, "nogroup", &alice.id).await,
        Err(Error::NotFound { kind: "group", .. })
    ));
    assert!(matches!(
        group::add_member(db, &ops.id, "nouser").await,
        Err(Error::NotFound { kind: "user", .. })
    ));

    // Remove: once, then NotFound.
    group::remove_member(db, &ops.id, &bob.id).await.unwrap();
    assert!(!group::is_member(db, &ops.id, &bob.id).await.unwrap());
    assert_eq!(
        group::member_ids(db, &ops.id).await.unwrap(),
        vec![alice.id.clone()]
    );
    assert!(group::groups_of(db, &bob.id).await.unwrap().is_empty());
    assert!(matches!(
        group::remove_member(db, &ops.id, &bob.id).await,
        Err(Error::NotFound { kind: "user", .. })
    ));
    assert!(matches!(
        group::remove_member(db, &devs.id, &bob.id).await,
        Err(Error::NotFound { .. })
    ));

    // Deleting a group ends its memberships, and only its own.
    group::delete(db, &ops.id).await.unwrap();
    assert!(group::member_ids(db, &ops.id).await.unwrap().is_empty());
    assert!(!group::is_member(db, &ops.id, &alice.id).await.unwrap());
    assert_eq!(
        group::groups_of(db, &alice.id).await.unwrap(),
        vec![devs.clone()]
    );
    assert_eq!(
        group::member_ids(db, &devs.id).await.unwrap(),
        vec![alice.id.clone()]
    );
    // The users themselves stay.
    assert_eq!(user::get(db, &alice.id).await.unwrap(), alice);
    assert_eq!(user::get(db, &bob.id).await.unwrap(), bob);
}
