//! `migration`: servers' moves between nodes (resize, cold migration),
//! as Nova's `migrations` table: where from and to, the flavors before
//! and after, and how far it got.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn when(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("migration")
                .if_not_exists()
                .col(
                    ColumnDef::new("id")
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new("uuid")
                        .string_len(36)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new("instance_id").string_len(36).not_null())
                .col(ColumnDef::new("project_id").string_len(64).not_null())
                .col(ColumnDef::new("user_id").string_len(64).not_null())
                .col(ColumnDef::new("migration_type").string_len(16).not_null())
                .col(ColumnDef::new("status").string_len(32).not_null())
                .col(ColumnDef::new("source_node").string_len(36).not_null())
                .col(ColumnDef::new("source_site").string_len(36))
                .col(ColumnDef::new("dest_node").string_len(36))
                .col(ColumnDef::new("dest_site").string_len(36))
                .col(ColumnDef::new("old_flavor").text().not_null())
                .col(ColumnDef::new("new_flavor").text().not_null())
                .col(ColumnDef::new("old_image").text().not_null())
                .col(when("created_at").not_null())
                .col(when("updated_at").not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from("migration", "instance_id")
                        .to("instance", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("migration_instance")
                .table("migration")
                .col("instance_id")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("migration").if_exists().to_owned())
            .await
    }
}
