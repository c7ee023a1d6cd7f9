//! Domain store: the default domain, CRUD, filters, pagination, delete rules.

#[macro_use]
mod common;

use common::{all, page};
use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::domain::{self, DomainFilter, DomainUpdate, NewDomain};

on_both!(
    default_domain_exists,
    crud_and_filters,
    paginate,
    delete_rules
);

async fn default_domain_exists(db: &DatabaseConnection) {
    let d = domain::get(db, "default").await.unwrap();
    assert_eq!(d.name, "Default");
    assert!(d.enabled);
}

fn new(name: &str) -> NewDomain {
    NewDomain {
        name: name.into(),
        description: None,
        enabled: true,
    }
}

async fn crud_and_filters(db: &DatabaseConnection) {
    let d = domain::create(db, new("edge")).await.unwrap();
    assert_eq!(d.id.len(), 32);
    assert_eq!(domain::get(db, &d.id).await.unwrap(), d);
    assert!(
        matches!(domain::create(db, new("edge")).await, Err(Error::Conflict(m)) if m.contains("Duplicate entry"))
    );
    assert!(matches!(
        domain::get(db, "nope").await,
        Err(Error::NotFound { kind: "domain", .. })
    ));

    let f = DomainFilter {
        name: Some("edge".into()),
        ..Default::default()
    };
    assert_eq!(
        domain::list(db, &f, &all()).await.unwrap().items,
        vec![d.clone()]
    );
    let up = domain::update(
        db,
        &d.id,
        DomainUpdate {
            enabled: Some(false),
            description: Some(Some("x".into())),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!up.enabled);
    assert_eq!(up.description.as_deref(), Some("x"));
    let disabled = DomainFilter {
        enabled: Some(false),
        ..Default::default()
    };
    assert_eq!(
        domain::list(db, &disabled, &all()).await.unwrap().items,
        vec![up]
    );
}

async fn paginate(db: &DatabaseConnection) {
    for n in ["a", "b", "c", "d"] {
        domain::create(db, new(n)).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let p = domain::list(db, &DomainFilter::default(), &page(2, marker.as_deref()))
            .await
            .unwrap();
        assert!(p.items.len() <= 2);
        seen.extend(p.items.iter().map(|d| d.id.clone()));
        match p.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "four plus default");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    let err = domain::list(db, &DomainFilter::default(), &page(2, Some("ghost")))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Marker ghost could not be found.");
}

async fn delete_rules(db: &DatabaseConnection) {
    let d = domain::create(db, new("gone")).await.unwrap();
    assert!(
        matches!(domain::delete(db, &d.id).await, Err(Error::Conflict(_))),
        "enabled"
    );
    domain::update(
        db,
        &d.id,
        DomainUpdate {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    domain::delete(db, &d.id).await.unwrap();
    assert!(matches!(
        domain::get(db, &d.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        domain::delete(db, &d.id).await,
        Err(Error::NotFound { .. })
    ));
}
