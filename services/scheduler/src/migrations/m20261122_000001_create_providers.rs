//! Resource providers (sites, nodes, devices, in a tree), their
//! inventories and aggregates, and custom resource classes.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn uuid(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(36).not_null().to_owned()
}

fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

fn at(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn provider_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_provider"))
        .from(table, "provider_uuid")
        .to("resource_provider", "uuid")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("resource_provider")
                .if_not_exists()
                .col(uuid("uuid").primary_key())
                .col(
                    ColumnDef::new("name")
                        .string_len(200)
                        .not_null()
                        .unique_key(),
                )
                // Bumped by every change to what the provider offers; a
                // writer names the generation it saw (optimistic locking).
                .col(big("generation"))
                .col(ColumnDef::new("parent_uuid").string_len(36).null())
                .col(uuid("root_uuid"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("inventory")
                .if_not_exists()
                .col(uuid("provider_uuid"))
                .col(ColumnDef::new("resource_class").string_len(255).not_null())
                .col(big("total"))
                .col(big("reserved"))
                .col(big("min_unit"))
                .col(big("max_unit"))
                .col(big("step_size"))
                .col(ColumnDef::new("allocation_ratio").double().not_null())
                .primary_key(Index::create().col("provider_uuid").col("resource_class"))
                .foreign_key(&mut provider_fk("inventory"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("provider_aggregate")
                .if_not_exists()
                .col(uuid("provider_uuid"))
                .col(uuid("aggregate_uuid"))
                .primary_key(Index::create().col("provider_uuid").col("aggregate_uuid"))
                .foreign_key(&mut provider_fk("provider_aggregate"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("custom_resource_class")
                .if_not_exists()
                .col(
                    ColumnDef::new("name")
                        .string_len(255)
                        .not_null()
                        .primary_key(),
                )
                .col(at("created_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "custom_resource_class",
            "provider_aggregate",
            "inventory",
            "resource_provider",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
