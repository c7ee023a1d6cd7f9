//! The network database schema, one migration per change, applied at start.

use virga_db::sea_orm_migration::{MigrationTrait, MigratorTrait};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        // The network issue adds the first tables.
        Vec::new()
    }
}
