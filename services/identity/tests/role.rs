//! Role store: global and domain role name uniqueness, listing, delete.

#[macro_use]
mod common;

use common::all;
use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::domain::{self, NewDomain};
use virga_identity::db::role::{self, NewRole, RoleFilter, RoleUpdate};

on_both!(uniqueness_and_listing);

async fn uniqueness_and_listing(db: &DatabaseConnection) {
    let global = |name: &str| NewRole {
        name: name.into(),
        ..Default::default()
    };
    let admin = role::create(db, global("admin")).await.unwrap();
    // NULL domain_id: only the partial unique index catches this one.
    assert!(matches!(
        role::create(db, global("admin")).await,
        Err(Error::Conflict(_))
    ));
    let d = domain::create(
        db,
        NewDomain {
            name: "d".into(),
            enabled: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let scoped = NewRole {
        name: "admin".into(),
        domain_id: Some(d.id.clone()),
        ..Default::default()
    };
    let dadmin = role::create(db, scoped.clone()).await.unwrap();
    assert!(matches!(
        role::create(db, scoped).await,
        Err(Error::Conflict(_))
    ));
    let bad = NewRole {
        name: "x".into(),
        domain_id: Some("nodomain".into()),
        ..Default::default()
    };
    assert!(matches!(
        role::create(db, bad).await,
        Err(Error::BadRequest(_))
    ));

    assert_eq!(
        role::list(db, &RoleFilter::default(), &all())
            .await
            .unwrap()
            .items,
        vec![admin.clone()]
    );
    let in_d = RoleFilter {
        domain_id: Some(d.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        role::list(db, &in_d, &all()).await.unwrap().items,
        vec![dadmin]
    );

    let renamed = role::update(
        db,
        &admin.id,
        RoleUpdate {
            name: Some("root".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(renamed.name, "root");
    role::delete(db, &admin.id).await.unwrap();
    assert!(matches!(
        role::get(db, &admin.id).await,
        Err(Error::NotFound { kind: "role", .. })
    ));
}
