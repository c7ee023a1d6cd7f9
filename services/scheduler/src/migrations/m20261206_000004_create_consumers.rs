//! Consumers: who holds allocations (an instance, a reservation), for
//! which project and user, with a generation so two writers of the same
//! consumer's allocations cannot silently overwrite each other.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("consumer")
                .if_not_exists()
                .col(
                    ColumnDef::new("uuid")
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("project_id").string_len(255).not_null())
                .col(ColumnDef::new("user_id").string_len(255).not_null())
                .col(ColumnDef::new("generation").big_integer().not_null())
                .col(
                    ColumnDef::new("created_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new("updated_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        // `GET /usages?project_id=` sums a project's consumers.
        m.create_index(
            Index::create()
                .name("ix_consumer_project_user")
                .table("consumer")
                .col("project_id")
                .col("user_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        // Allocations written before consumers existed belong to
        // Placement's "incomplete consumer" project and user.
        let backfill = Query::insert()
            .into_table("consumer")
            .columns([
                "uuid",
                "project_id",
                "user_id",
                "generation",
                "created_at",
                "updated_at",
            ])
            .select_from(
                Query::select()
                    .distinct()
                    .column("consumer_id")
                    .expr(Expr::val(INCOMPLETE))
                    .expr(Expr::val(INCOMPLETE))
                    .expr(Expr::val(0))
                    .expr(Expr::current_timestamp())
                    .expr(Expr::current_timestamp())
                    .from("allocation")
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        m.exec_stmt(backfill).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("consumer").if_exists().to_owned())
            .await
    }
}

const INCOMPLETE: &str = "00000000-0000-0000-0000-000000000000";
