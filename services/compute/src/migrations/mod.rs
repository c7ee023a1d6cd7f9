//! The compute database schema, one migration per change, applied at start.
//!
//! Every migration uses only sea-query's schema builder so it runs unchanged
//! on SQLite and PostgreSQL, creates with `IF NOT EXISTS` so a start that
//! crashed midway can re-run it, and has a working `down`.

use virga_db::sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261207_000001_create_flavors;
mod m20261207_000002_create_key_pairs;
mod m20261207_000003_create_quotas;
mod m20261207_000004_create_server_groups;
mod m20261207_000005_create_instances;
mod m20261207_000006_instance_actions;
mod m20261207_000007_migrations;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261207_000001_create_flavors::Migration),
            Box::new(m20261207_000002_create_key_pairs::Migration),
            Box::new(m20261207_000003_create_quotas::Migration),
            Box::new(m20261207_000004_create_server_groups::Migration),
            Box::new(m20261207_000005_create_instances::Migration),
            Box::new(m20261207_000006_instance_actions::Migration),
            Box::new(m20261207_000007_migrations::Migration),
        ]
    }
}
