//! Quotas an admin set per project and resource, and one lock row per
//! project and resource that creations under a limit take first (so two
//! concurrent creations cannot both see room for one more); and indexes
//! on the project of every counted resource.

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
                .col(ColumnDef::new("resource").string_len(32).not_null())
                .col(ColumnDef::new("hard_limit").big_integer().not_null())
                .primary_key(Index::create().col("project_id").col("resource"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("quota_lock")
                .if_not_exists()
                .col(ColumnDef::new("project_id").string_len(64).not_null())
                .col(ColumnDef::new("resource").string_len(32).not_null())
                .col(ColumnDef::new("serial").big_integer().not_null())
                .primary_key(Index::create().col("project_id").col("resource"))
                .to_owned(),
        )
        .await?;
        for table in [
            "network",
            "subnet",
            "port",
            "security_group",
            "security_group_rule",
        ] {
            m.create_index(
                Index::create()
                    .name(format!("ix_{table}_project_id"))
                    .table(table)
                    .col("project_id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "network",
            "subnet",
            "port",
            "security_group",
            "security_group_rule",
        ] {
            m.drop_index(
                Index::drop()
                    .name(format!("ix_{table}_project_id"))
                    .table(table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        }
        for t in ["quota_lock", "quota"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
