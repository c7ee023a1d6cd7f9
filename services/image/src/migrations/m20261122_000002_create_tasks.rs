//! Import tasks (Glance's `api_image_import` tasks): what an import was
//! asked to do, how far it got, and which worker holds it (a lease, so a
//! crashed worker's task is taken up again).

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn string(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(name).string_len(len).not_null().to_owned()
}

fn string_null(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(name).string_len(len).null().to_owned()
}

fn at(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("image_task")
                .if_not_exists()
                .col(string("id", 36).primary_key())
                .col(string("image_id", 36))
                .col(string("type", 30))
                .col(string("status", 20))
                // The import request and what the worker needs (JSON).
                .col(ColumnDef::new("input").text().not_null())
                .col(ColumnDef::new("result").text().null())
                .col(ColumnDef::new("message").text().not_null())
                .col(string_null("owner", 64))
                .col(string_null("user_id", 64))
                .col(string_null("request_id", 64))
                // The host whose worker may run it (glance-direct: where the
                // data was staged); null for any.
                .col(string_null("host", 255))
                .col(
                    ColumnDef::new("lease_until")
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(at("created_at"))
                .col(at("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_image_task_image_id")
                        .from("image_task", "image_id")
                        .to("image", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_image_task_image_id")
                .table("image_task")
                .col("image_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_image_task_status")
                .table("image_task")
                .col("status")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("image_task").if_exists().to_owned())
            .await
    }
}
