//! The identity database schema, one migration per change, applied at start.
//!
//! Every migration uses only sea-query's schema builder so it runs unchanged
//! on SQLite and PostgreSQL, creates with `IF NOT EXISTS` so a start that
//! crashed midway can re-run it, and has a working `down`.

use virga_db::sea_orm_migration::prelude::{ColumnDef, ForeignKey, ForeignKeyAction};
use virga_db::sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261122_000001_create_domains_projects;
mod m20261122_000002_create_users_groups;
mod m20261122_000003_create_roles_assignments;
mod m20261122_000004_create_catalog;
mod m20261122_000005_create_application_credentials;
mod m20261122_000006_create_token_tables;
mod m20261122_000007_create_audit_events;
mod m20261122_000008_one_current_signing_key;
mod m20261122_000009_create_federation;
mod m20261207_000010_audit_target_text;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_domains_projects::Migration),
            Box::new(m20261122_000002_create_users_groups::Migration),
            Box::new(m20261122_000003_create_roles_assignments::Migration),
            Box::new(m20261122_000004_create_catalog::Migration),
            Box::new(m20261122_000005_create_application_credentials::Migration),
            Box::new(m20261122_000006_create_token_tables::Migration),
            Box::new(m20261122_000007_create_audit_events::Migration),
            Box::new(m20261122_000008_one_current_signing_key::Migration),
            Box::new(m20261122_000009_create_federation::Migration),
            Box::new(m20261207_000010_audit_target_text::Migration),
        ]
    }
}

// Column shapes shared by the migrations, so every table spells an id, a
// name or a timestamp the same way.

/// A Keystone id: 32 hex chars, `default`, or a user-chosen region id.
fn id(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(64).not_null().to_owned()
}

fn nullable_id(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(64).null().to_owned()
}

fn name(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(255).not_null().to_owned()
}

fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

fn flag(name: &'static str, default: bool) -> ColumnDef {
    ColumnDef::new(name)
        .boolean()
        .not_null()
        .default(default)
        .to_owned()
}

fn at(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn at_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

/// A foreign key from `table.col` to `target.id`.
fn fk(
    table: &'static str,
    col: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) -> virga_db::sea_orm_migration::prelude::ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(table, col)
        .to(target, "id")
        .on_delete(on_delete)
        .to_owned()
}
