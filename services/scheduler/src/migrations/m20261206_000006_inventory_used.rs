//! What is allocated of each inventory, kept on the inventory row itself
//! (recounted in every claim's transaction), so finding providers with
//! room is one indexed comparison instead of summing allocations.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !m.has_column("inventory", "used").await? {
            m.alter_table(
                Table::alter()
                    .table("inventory")
                    .add_column(ColumnDef::new("used").big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        }
        m.get_connection()
            .execute_unprepared(
                "UPDATE inventory SET used = COALESCE((SELECT SUM(a.used) FROM allocation a \
                 WHERE a.provider_uuid = inventory.provider_uuid \
                 AND a.resource_class = inventory.resource_class), 0)",
            )
            .await?;
        m.create_index(
            Index::create()
                .name("ix_inventory_class")
                .table("inventory")
                .col("resource_class")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_inventory_class")
                .table("inventory")
                .if_exists()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("inventory")
                .drop_column("used")
                .to_owned(),
        )
        .await
    }
}
