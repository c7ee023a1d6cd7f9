//! Copies of images in edge sites' stores (Glance's multi-store
//! locations), with the state of each copy.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("image_location")
                .if_not_exists()
                .col(ColumnDef::new("image_id").string_len(36).not_null())
                .col(ColumnDef::new("store_id").string_len(64).not_null())
                // queued | copying | verifying | active | failed
                .col(ColumnDef::new("status").string_len(16).not_null())
                .col(ColumnDef::new("reason").text().null())
                // The task that last worked on the copy.
                .col(ColumnDef::new("task_id").string_len(36).null())
                .col(
                    ColumnDef::new("updated_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(Index::create().col("image_id").col("store_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_image_location_image_id")
                        .from("image_location", "image_id")
                        .to("image", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("image_location").if_exists().to_owned())
            .await
    }
}
