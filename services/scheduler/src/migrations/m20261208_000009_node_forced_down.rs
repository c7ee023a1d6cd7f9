//! A node an operator forced down (Nova's `forced_down`, compute
//! microversion 2.11): down whatever its heartbeats say, so its servers
//! can be evacuated at once once it is known to be fenced.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.has_column("node", "forced_down").await? {
            return Ok(());
        }
        m.alter_table(
            Table::alter()
                .table("node")
                .add_column(
                    ColumnDef::new("forced_down")
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("node")
                .drop_column("forced_down")
                .to_owned(),
        )
        .await
    }
}
