//! The identity database schema, one migration per change, applied at start.

use virga_db::sea_orm_migration::{MigrationTrait, MigratorTrait};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        // The identity issue adds the first tables (domains, projects, users, ...).
        Vec::new()
    }
}
