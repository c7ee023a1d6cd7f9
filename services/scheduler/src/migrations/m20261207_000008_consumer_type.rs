//! Placement 1.38's consumer types (`INSTANCE`, `MIGRATION`, ...): a
//! column on the consumer, null for consumers written before 1.38
//! (shown as `unknown`).

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.has_column("consumer", "consumer_type").await? {
            return Ok(());
        }
        m.alter_table(
            Table::alter()
                .table("consumer")
                .add_column(ColumnDef::new("consumer_type").string_len(255).null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("consumer")
                .drop_column("consumer_type")
                .to_owned(),
        )
        .await
    }
}
