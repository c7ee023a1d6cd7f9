//! Key pairs (`key_pair`): a user's SSH public keys, by name.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("key_pair")
                .if_not_exists()
                // Nova shows a number.
                .col(
                    ColumnDef::new("id")
                        .integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new("user_id").string_len(64).not_null())
                .col(ColumnDef::new("name").string_len(255).not_null())
                .col(ColumnDef::new("fingerprint").string_len(255).not_null())
                .col(ColumnDef::new("public_key").text().not_null())
                .col(ColumnDef::new("type").string_len(16).not_null())
                .col(
                    ColumnDef::new("created_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("key_pair_user_name")
                .table("key_pair")
                .col("user_id")
                .col("name")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("key_pair").if_exists().to_owned())
            .await
    }
}
