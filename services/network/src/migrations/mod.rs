//! The network database schema, one migration per change, applied at start.
//!
//! Every migration uses only sea-query's schema builder so it runs unchanged
//! on SQLite and PostgreSQL, creates with `IF NOT EXISTS` so a start that
//! crashed midway can re-run it, and has a working `down`.

use virga_db::sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261207_000001_create_networks;
mod m20261207_000002_create_security_groups;
mod m20261207_000003_create_quotas;
mod m20261207_000004_create_routers;
mod m20261207_000005_create_network_nodes;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261207_000001_create_networks::Migration),
            Box::new(m20261207_000002_create_security_groups::Migration),
            Box::new(m20261207_000003_create_quotas::Migration),
            Box::new(m20261207_000004_create_routers::Migration),
            Box::new(m20261207_000005_create_network_nodes::Migration),
        ]
    }
}
