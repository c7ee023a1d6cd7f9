//! The identity schema: re-running migrations is a no-op and `down` undoes all.

#[macro_use]
mod common;

use virga_db::sea_orm::DatabaseConnection;
use virga_db::sea_orm_migration::{MigratorTrait, SchemaManager};
use virga_identity::db::domain;
use virga_identity::migrations::Migrator;

on_both!(rerun_and_down);

async fn rerun_and_down(db: &DatabaseConnection) {
    // Already applied: running again applies nothing and breaks nothing.
    Migrator::up(db, None).await.unwrap();
    assert_eq!(domain::get(db, "default").await.unwrap().name, "Default");

    Migrator::down(db, None).await.unwrap();
    let schema = SchemaManager::new(db);
    for t in [
        "domain",
        "project",
        "user",
        "role",
        "assignment",
        "audit_event",
        "identity_provider",
        "federated_user",
        "sso_login",
    ] {
        assert!(!schema.has_table(t).await.unwrap(), "{t} dropped");
    }
    Migrator::up(db, None).await.unwrap();
    assert!(schema.has_table("application_credential").await.unwrap());
    assert!(schema.has_table("expiring_group_membership").await.unwrap());
    assert_eq!(domain::get(db, "default").await.unwrap().name, "Default");
}
