//! OCI blobs stored once by digest (`image_blob`) and which images use
//! them (`image_blob_ref`, gone with its image).

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("image_blob")
                .if_not_exists()
                .col(
                    ColumnDef::new("digest")
                        .string_len(80)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("size").big_integer().not_null())
                // present | deleting
                .col(ColumnDef::new("state").string_len(10).not_null())
                // Bumped by every claim, so a collector that saw a blob
                // unused deletes it only if nobody claimed it since.
                .col(ColumnDef::new("claims").big_integer().not_null())
                .col(
                    ColumnDef::new("updated_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("image_blob_ref")
                .if_not_exists()
                .col(ColumnDef::new("image_id").string_len(36).not_null())
                .col(ColumnDef::new("digest").string_len(80).not_null())
                .primary_key(Index::create().col("image_id").col("digest"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_image_blob_ref_image_id")
                        .from("image_blob_ref", "image_id")
                        .to("image", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_image_blob_ref_digest")
                .table("image_blob_ref")
                .col("digest")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("image_blob_ref").if_exists().to_owned())
            .await?;
        m.drop_table(Table::drop().table("image_blob").if_exists().to_owned())
            .await
    }
}
