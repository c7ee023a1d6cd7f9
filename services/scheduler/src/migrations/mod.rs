//! The scheduler database schema, one migration per change, applied at start.
//!
//! Every migration uses only sea-query's schema builder so it runs unchanged
//! on SQLite and PostgreSQL, creates with `IF NOT EXISTS` so a start that
//! crashed midway can re-run it, and has a working `down`.

use virga_db::sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261122_000001_create_providers;
mod m20261122_000002_create_allocations;
mod m20261206_000003_create_traits;
mod m20261206_000004_create_consumers;
mod m20261206_000005_create_sites_nodes;
mod m20261206_000006_inventory_used;
mod m20261207_000007_node_facts;
mod m20261207_000008_consumer_type;
mod m20261208_000009_node_forced_down;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_providers::Migration),
            Box::new(m20261122_000002_create_allocations::Migration),
            Box::new(m20261206_000003_create_traits::Migration),
            Box::new(m20261206_000004_create_consumers::Migration),
            Box::new(m20261206_000005_create_sites_nodes::Migration),
            Box::new(m20261206_000006_inventory_used::Migration),
            Box::new(m20261207_000007_node_facts::Migration),
            Box::new(m20261207_000008_consumer_type::Migration),
            Box::new(m20261208_000009_node_forced_down::Migration),
        ]
    }
}
