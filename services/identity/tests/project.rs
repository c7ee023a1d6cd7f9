//! Project store: CRUD, filters, hierarchy, tags, FK and delete rules.

#[macro_use]
mod common;

use common::{all, page};
use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::project::{self, NewProject, ProjectFilter, ProjectUpdate};

on_both!(crud_filters_tags, hierarchy_and_delete, bad_references);

fn new(name: &str, parent: Option<&str>) -> NewProject {
    NewProject {
        name: name.into(),
        domain_id: "default".into(),
        parent_id: parent.map(Into::into),
        enabled: true,
        ..Default::default()
    }
}

async fn crud_filters_tags(db: &DatabaseConnection) {
    let p = project::create(
        db,
        NewProject {
            tags: vec!["b".into(), "a".into(), "a".into()],
            ..new("p1", None)
        },
    )
    .await
    .unwrap();
    assert_eq!(project::get(db, &p.id).await.unwrap(), p);
    assert_eq!(project::tags(db, &p.id).await.unwrap(), ["a", "b"]);
    let dup = project::create(db, new("p1", None)).await.unwrap_err();
    assert_eq!(
        dup.to_string(),
        "Conflict occurred attempting to store project - Duplicate entry."
    );
    let q = project::create(db, new("p2", None)).await.unwrap();
    project::update(
        db,
        &q.id,
        ProjectUpdate {
            enabled: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let by = |f: ProjectFilter| async move { project::list(db, &f, &all()).await.unwrap().items };
    assert_eq!(
        by(ProjectFilter {
            name: Some("p1".into()),
            ..Default::default()
        })
        .await,
        vec![p.clone()]
    );
    assert_eq!(
        by(ProjectFilter {
            enabled: Some(false),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        by(ProjectFilter {
            domain_id: Some("default".into()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    let first = project::list(db, &ProjectFilter::default(), &page(1, None))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 1);
    assert!(first.next_marker.is_some());
    assert!(matches!(
        project::list(db, &ProjectFilter::default(), &page(1, Some("zzz"))).await,
        Err(Error::NotFound { kind: "Marker", .. })
    ));
    assert!(matches!(
        project::get(db, "missing").await,
        Err(Error::NotFound {
            kind: "project",
            ..
        })
    ));
}

async fn hierarchy_and_delete(db: &DatabaseConnection) {
    let parent = project::create(db, new("parent", None)).await.unwrap();
    let child = project::create(db, new("child", Some(&parent.id)))
        .await
        .unwrap();
    let kids = ProjectFilter {
        parent_id: Some(parent.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        project::list(db, &kids, &all()).await.unwrap().items,
        vec![child.clone()]
    );
    let lineage: Vec<_> = project::lineage(db, &child.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(lineage, [child.id.clone(), parent.id.clone()]);
    assert!(matches!(
        project::delete(db, &parent.id).await,
        Err(Error::Conflict(_))
    ));
    project::delete(db, &child.id).await.unwrap();
    project::delete(db, &parent.id).await.unwrap();
    assert!(matches!(
        project::delete(db, &parent.id).await,
        Err(Error::NotFound { .. })
    ));
}

async fn bad_references(db: &DatabaseConnection) {
    let err = project::create(
        db,
        NewProject {
            domain_id: "nodomain".into(),
            ..new("x", None)
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
    let err = project::create(db, new("y", Some("noparent")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
}
