//! What an agent found on its host beyond inventories (CPU model, NUMA,
//! accelerators, interfaces and addresses, hypervisor): JSON on the node.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.has_column("node", "facts").await? {
            return Ok(());
        }
        m.alter_table(
            Table::alter()
                .table("node")
                .add_column(ColumnDef::new("facts").text().not_null().default("{}"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("node").drop_column("facts").to_owned())
            .await
    }
}
