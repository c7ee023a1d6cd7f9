//! User store: CRUD, password storage, group filter, cascades on delete.

#[macro_use]
mod common;

use common::all;
use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::application_credential::{self, NewApplicationCredential};
use virga_identity::db::assignment::{self, ActorType, AssignmentFilter, TargetType};
use virga_identity::db::group::{self, NewGroup};
use virga_identity::db::role::{self, NewRole};
use virga_identity::db::user::{self, NewUser, UserFilter, UserUpdate};

on_both!(crud_password_filters, cascade_on_delete);

fn new(name: &str) -> NewUser {
    NewUser {
        name: name.into(),
        domain_id: "default".into(),
        enabled: true,
        ..Default::default()
    }
}

async fn crud_password_filters(db: &DatabaseConnection) {
    let hash = virga_auth::hash_password_with(
        "s3cret",
        &virga_auth::PasswordParams {
            m_kib: 8,
            t: 1,
            p: 1,
        },
    )
    .unwrap();
    let u = user::create(
        db,
        NewUser {
            password: Some(hash.clone()),
            ..new("alice")
        },
    )
    .await
    .unwrap();
    let read = user::get_by_name(db, "default", "alice").await.unwrap();
    assert_eq!(read.password().unwrap(), Some(hash.clone()));
    assert!(virga_auth::verify_password(
        "s3cret",
        &read.password().unwrap().unwrap()
    ));
    assert!(
        !format!("{read:?}").contains("argon2"),
        "Debug hides the hash"
    );
    assert!(matches!(
        user::create(db, new("alice")).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        user::get(db, "ghost").await,
        Err(Error::NotFound { kind: "user", .. })
    ));

    let bob = user::create(db, new("bob")).await.unwrap();
    let bob = user::update(
        db,
        &bob.id,
        UserUpdate {
            enabled: Some(false),
            password: Some(Some(hash)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(bob.password_hash.is_some());
    let disabled = UserFilter {
        enabled: Some(false),
        ..Default::default()
    };
    assert_eq!(
        user::list(db, &disabled, &all()).await.unwrap().items,
        vec![bob.clone()]
    );

    let g = group::create(
        db,
        NewGroup {
            name: "ops".into(),
            domain_id: "default".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    group::add_member(db, &g.id, &u.id).await.unwrap();
    group::add_member(db, &g.id, &u.id).await.unwrap();
    let members = UserFilter {
        group_id: Some(g.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        user::list(db, &members, &all()).await.unwrap().items,
        vec![u.clone()]
    );
    let unknown = UserFilter {
        group_id: Some("nogroup".into()),
        ..Default::default()
    };
    assert!(matches!(
        user::list(db, &unknown, &all()).await,
        Err(Error::NotFound { kind: "group", .. })
    ));
}

async fn cascade_on_delete(db: &DatabaseConnection) {
    let u = user::create(db, new("carol")).await.unwrap();
    let g = group::create(
        db,
        NewGroup {
            name: "devs".into(),
            domain_id: "default".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    group::add_member(db, &g.id, &u.id).await.unwrap();
    let r = role::create(
        db,
        NewRole {
            name: "member".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let a = assignment::Model {
        actor_type: ActorType::User,
        actor_id: u.id.clone(),
        target_type: TargetType::Domain,
        target_id: "default".into(),
        role_id: r.id.clone(),
        inherited: false,
    };
    assignment::grant(db, &a).await.unwrap();
    application_credential::create(
        db,
        NewApplicationCredential {
            user_id: u.id.clone(),
            project_id: "p".into(),
            name: "ci".into(),
            secret_hash: "h".into(),
            role_ids: vec![r.id.clone()],
            ..Default::default()
        },
    )
    .await
    .unwrap();

    user::delete(db, &u.id).await.unwrap();
    assert!(group::member_ids(db, &g.id).await.unwrap().is_empty());
    let f = AssignmentFilter {
        user_id: Some(u.id.clone()),
        ..Default::default()
    };
    assert!(assignment::list(db, &f).await.unwrap().is_empty());
    assert!(
        application_credential::list(db, &u.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        user::delete(db, &u.id).await,
        Err(Error::NotFound { .. })
    ));
}
