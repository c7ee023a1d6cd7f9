//! The ledger's schema: one table of instances' desired and last seen
//! state, a key-value table for the node's own identity, and the node's
//! network plan.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;
use virga_db::sea_orm_migration::{MigrationTrait, MigratorTrait};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateLedger), Box::new(CreateNodeNetwork)]
    }
}

#[derive(DeriveMigrationName)]
struct CreateLedger;

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn maybe(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for CreateLedger {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("instance")
                .if_not_exists()
                .col(ColumnDef::new("uuid").text().not_null().primary_key())
                .col(ColumnDef::new("generation").big_integer().not_null())
                .col(text("spec"))
                .col(text("power"))
                .col(text("state"))
                .col(maybe("reason"))
                .col(maybe("request_id"))
                .col(maybe("pending_reboot"))
                .col(maybe("built_image"))
                .col(
                    ColumnDef::new("updated_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("agent_meta")
                .if_not_exists()
                .col(ColumnDef::new("key").text().not_null().primary_key())
                .col(text("value"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("agent_meta").if_exists().to_owned())
            .await?;
        m.drop_table(Table::drop().table("instance").if_exists().to_owned())
            .await
    }
}

/// Named by hand: the derive names a migration after its file, which
/// `CreateLedger` (recorded as `migration` in existing ledgers) already is.
struct CreateNodeNetwork;

impl MigrationName for CreateNodeNetwork {
    fn name(&self) -> &str {
        "m20261207_000001_node_network"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateNodeNetwork {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row (id 1): the last network plan the centre sent.
        m.create_table(
            Table::create()
                .table("node_network")
                .if_not_exists()
                .col(ColumnDef::new("id").integer().not_null().primary_key())
                .col(ColumnDef::new("generation").big_integer().not_null())
                .col(text("state"))
                .col(maybe("request_id"))
                .col(
                    ColumnDef::new("updated_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("node_network").if_exists().to_owned())
            .await
    }
}
