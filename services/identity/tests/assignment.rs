//! Assignments: grant/revoke, filters, effective expansion, roles_for via
//! groups and inherited domain and project roles.

#[macro_use]
mod common;

use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::assignment::{
    self, ActorType, AssignmentFilter, Model, Target, TargetType,
};
use virga_identity::db::group::{self, NewGroup};
use virga_identity::db::project::{self, NewProject};
use virga_identity::db::role::{self, NewRole};
use virga_identity::db::user::{self, NewUser};

on_both!(grant_revoke_filter, effective_roles);

struct World {
    user: String,
    group: String,
    parent: String,
    child: String,
    reader: String,
    member: String,
    admin: String,
}

async fn world(db: &DatabaseConnection) -> World {
    let user = user::create(
        db,
        NewUser {
            name: "u".into(),
            domain_id: "default".into(),
            enabled: true,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let group = group::create(
        db,
        NewGroup {
            name: "g".into(),
            domain_id: "default".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    group::add_member(db, &group, &user).await.unwrap();
    let p = |name: &str, parent: Option<String>| NewProject {
        name: name.into(),
        domain_id: "default".into(),
        parent_id: parent,
        enabled: true,
        ..Default::default()
    };
    let parent = project::create(db, p("parent", None)).await.unwrap().id;
    let child = project::create(db, p("child", Some(parent.clone())))
        .await
        .unwrap()
        .id;
    let r = |n: &str| NewRole {
        name: n.into(),
        ..Default::default()
    };
    let reader = role::create(db, r("reader")).await.unwrap().id;
    let member = role::create(db, r("member")).await.unwrap().id;
    let admin = role::create(db, r("admin")).await.unwrap().id;
    World {
        user,
        group,
        parent,
        child,
        reader,
        member,
        admin,
    }
}

fn a(actor: (ActorType, &str), target: (TargetType, &str), role: &str, inherited: bool) -> Model {
    Model {
        actor_type: actor.0,
        actor_id: actor.1.into(),
        target_type: target.0,
        target_id: target.1.into(),
        role_id: role.into(),
        inherited,
    }
}

async fn grant_revoke_filter(db: &DatabaseConnection) {
    let w = world(db).await;
    let direct = a(
        (ActorType::User, &w.user),
        (TargetType::Project, &w.parent),
        &w.member,
        false,
    );
    assignment::grant(db, &direct).await.unwrap();
    assignment::grant(db, &direct).await.unwrap(); // idempotent
    let f = AssignmentFilter {
        project_id: Some(w.parent.clone()),
        ..Default::default()
    };
    assert_eq!(
        assignment::list(db, &f).await.unwrap(),
        vec![direct.clone()]
    );
    let missing_role = a(
        (ActorType::User, &w.user),
        (TargetType::Project, &w.parent),
        "norole",
        false,
    );
    assert!(matches!(
        assignment::grant(db, &missing_role).await,
        Err(Error::NotFound { kind: "role", .. })
    ));
    let missing_target = a(
        (ActorType::User, &w.user),
        (TargetType::Project, "nope"),
        &w.member,
        false,
    );
    assert!(matches!(
        assignment::grant(db, &missing_target).await,
        Err(Error::NotFound {
            kind: "project",
            ..
        })
    ));
    let bad_system = a(
        (ActorType::User, &w.user),
        (TargetType::System, "some"),
        &w.member,
        false,
    );
    assert!(matches!(
        assignment::grant(db, &bad_system).await,
        Err(Error::BadRequest(_))
    ));

    assignment::revoke(db, &direct).await.unwrap();
    assert!(assignment::list(db, &f).await.unwrap().is_empty());
    assert!(matches!(
        assignment::revoke(db, &direct).await,
        Err(Error::NotFound { .. })
    ));
    let eff_group = AssignmentFilter {
        effective: true,
        group_id: Some(w.group),
        ..Default::default()
    };
    assert!(matches!(
        assignment::list(db, &eff_group).await,
        Err(Error::BadRequest(_))
    ));
}

async fn effective_roles(db: &DatabaseConnection) {
    let w = world(db).await;
    let grants = [
        a(
            (ActorType::User, &w.user),
            (TargetType::Project, &w.child),
            &w.member,
            false,
        ),
        // Through the group, inherited from the domain: reaches both projects.
        a(
            (ActorType::Group, &w.group),
            (TargetType::Domain, "default"),
            &w.reader,
            true,
        ),
        // Inherited on the parent: applies to the child, not the parent.
        a(
            (ActorType::Group, &w.group),
            (TargetType::Project, &w.parent),
            &w.admin,
            true,
        ),
        a(
            (ActorType::User, &w.user),
            (TargetType::System, "all"),
            &w.admin,
            false,
        ),
    ];
    for g in &grants {
        assignment::grant(db, g).await.unwrap();
    }
    let names = |roles: Vec<role::Model>| roles.into_iter().map(|r| r.name).collect::<Vec<_>>();
    let on_child = assignment::roles_for(db, &w.user, &Target::Project(w.child.clone()))
        .await
        .unwrap();
    assert_eq!(names(on_child), ["admin", "member", "reader"]);
    let on_parent = assignment::roles_for(db, &w.user, &Target::Project(w.parent.clone()))
        .await
        .unwrap();
    assert_eq!(names(on_parent), ["reader"]);
    let on_domain = assignment::roles_for(db, &w.user, &Target::Domain("default".into()))
        .await
        .unwrap();
    assert!(
        on_domain.is_empty(),
        "inherited domain roles do not apply to the domain itself"
    );
    assert_eq!(
        names(
            assignment::roles_for(db, &w.user, &Target::System)
                .await
                .unwrap()
        ),
        ["admin"]
    );

    let eff = AssignmentFilter {
        user_id: Some(w.user.clone()),
        project_id: Some(w.child.clone()),
        effective: true,
        ..Default::default()
    };
    let rows = assignment::list(db, &eff).await.unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.actor_type == ActorType::User && !r.inherited)
    );

    // Leaving the group takes the group's roles away.
    group::remove_member(db, &w.group, &w.user).await.unwrap();
    let on_child = assignment::roles_for(db, &w.user, &Target::Project(w.child.clone()))
        .await
        .unwrap();
    assert_eq!(names(on_child), ["member"]);
}
