//! Audit events (CADF-like): who did what to which resource, and how it ended.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

use super::{at, id, nullable_id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("audit_event")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(at("at"))
                .col(ColumnDef::new("action").string_len(64).not_null())
                .col(ColumnDef::new("outcome").string_len(16).not_null())
                .col(nullable_id("initiator_user_id"))
                .col(nullable_id("initiator_project_id"))
                .col(ColumnDef::new("target_type").string_len(64).not_null())
                .col(id("target_id"))
                .col(ColumnDef::new("request_id").string_len(64).null())
                // JSON object, as text so both backends store it alike.
                .col(ColumnDef::new("detail").text().not_null())
                .to_owned(),
        )
        .await?;
        // Audit queries read a time window.
        m.create_index(
            Index::create()
                .name("ix_audit_event_at")
                .table("audit_event")
                .col("at")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("audit_event").if_exists().to_owned())
            .await
    }
}
