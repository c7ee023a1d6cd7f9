//! Server groups (`server_group`): a project's groups of servers placed
//! by one policy, and their members (`server_group_member`, filled as
//! servers join).

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("server_group")
                .if_not_exists()
                .col(ColumnDef::new("id").string_len(36).not_null().primary_key())
                .col(ColumnDef::new("project_id").string_len(64).not_null())
                .col(ColumnDef::new("user_id").string_len(64).not_null())
                .col(ColumnDef::new("name").string_len(255).not_null())
                .col(ColumnDef::new("policy").string_len(32).not_null())
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
                .name("server_group_project")
                .table("server_group")
                .col("project_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("server_group_member")
                .if_not_exists()
                .col(ColumnDef::new("group_id").string_len(36).not_null())
                .col(ColumnDef::new("server_id").string_len(36).not_null())
                .primary_key(Index::create().col("group_id").col("server_id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("server_group_member", "group_id")
                        .to("server_group", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["server_group_member", "server_group"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
