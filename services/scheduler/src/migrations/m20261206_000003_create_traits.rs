//! Traits: operators' custom traits (`CUSTOM_*`; the standard ones live in
//! code) and which traits each provider has.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("custom_trait")
                .if_not_exists()
                .col(
                    ColumnDef::new("name")
                        .string_len(255)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new("created_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("provider_trait")
                .if_not_exists()
                .col(ColumnDef::new("provider_uuid").string_len(36).not_null())
                .col(ColumnDef::new("trait_name").string_len(255).not_null())
                .primary_key(Index::create().col("provider_uuid").col("trait_name"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_provider_trait_provider")
                        .from("provider_trait", "provider_uuid")
                        .to("resource_provider", "uuid")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Scheduling asks "which providers have trait T", not the reverse.
        m.create_index(
            Index::create()
                .name("ix_provider_trait_name")
                .table("provider_trait")
                .col("trait_name")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("provider_trait").if_exists().to_owned())
            .await?;
        m.drop_table(Table::drop().table("custom_trait").if_exists().to_owned())
            .await
    }
}
