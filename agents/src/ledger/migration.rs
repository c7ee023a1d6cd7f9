//! The ledger's schema: one table of instances' desired and last seen
//! state, and a key-value table for the node's own identity.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;
use virga_db::sea_orm_migration::{MigrationTrait, MigratorTrait};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateLedger)]
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
