//! Quotas an admin set (`quota`): a limit per project and resource, over
//! the configured defaults.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("quota")
                .if_not_exists()
                .col(ColumnDef::new("project_id").string_len(64).not_null())
                .col(ColumnDef::new("resource").string_len(64).not_null())
                .col(ColumnDef::new("hard_limit").big_integer().not_null())
                .primary_key(Index::create().col("project_id").col("resource"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("quota").if_exists().to_owned())
            .await
    }
}
