//! Allocations: what each consumer (an instance, a reservation) holds of
//! each provider's inventory.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("allocation")
                .if_not_exists()
                .col(ColumnDef::new("consumer_id").string_len(36).not_null())
                .col(ColumnDef::new("provider_uuid").string_len(36).not_null())
                .col(ColumnDef::new("resource_class").string_len(255).not_null())
                .col(ColumnDef::new("used").big_integer().not_null())
                .col(
                    ColumnDef::new("created_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col("consumer_id")
                        .col("provider_uuid")
                        .col("resource_class"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_allocation_provider")
                .table("allocation")
                .col("provider_uuid")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("allocation").if_exists().to_owned())
            .await
    }
}
