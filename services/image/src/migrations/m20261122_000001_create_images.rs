//! Images (Glance's metadata), their tags, extra properties and members.

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

fn image_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_image_id"))
        .from(table, "image_id")
        .to("image", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("image")
                .if_not_exists()
                .col(string("id", 36).primary_key())
                .col(string_null("name", 255))
                .col(string("status", 30))
                .col(string("visibility", 20))
                .col(
                    ColumnDef::new("protected")
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(
                    ColumnDef::new("os_hidden")
                        .boolean()
                        .not_null()
                        .default(false),
                )
                // The owning project; null only for images an admin made without one.
                .col(string_null("owner", 64))
                .col(string_null("disk_format", 20))
                .col(string_null("container_format", 20))
                .col(ColumnDef::new("size").big_integer().null())
                .col(ColumnDef::new("virtual_size").big_integer().null())
                .col(string_null("checksum", 32))
                .col(string_null("os_hash_algo", 64))
                .col(string_null("os_hash_value", 128))
                .col(ColumnDef::new("min_disk").integer().not_null().default(0))
                .col(ColumnDef::new("min_ram").integer().not_null().default(0))
                .col(at("created_at"))
                .col(at("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_image_owner")
                .table("image")
                .col("owner")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("image_tag")
                .if_not_exists()
                .col(string("image_id", 36))
                .col(string("value", 255))
                .primary_key(Index::create().col("image_id").col("value"))
                .foreign_key(&mut image_fk("image_tag"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("image_property")
                .if_not_exists()
                .col(string("image_id", 36))
                .col(string("name", 255))
                .col(ColumnDef::new("value").text().not_null())
                .primary_key(Index::create().col("image_id").col("name"))
                .foreign_key(&mut image_fk("image_property"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("image_member")
                .if_not_exists()
                .col(string("image_id", 36))
                .col(string("member", 64))
                .col(string("status", 20))
                .col(at("created_at"))
                .col(at("updated_at"))
                .primary_key(Index::create().col("image_id").col("member"))
                .foreign_key(&mut image_fk("image_member"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_image_member_member")
                .table("image_member")
                .col("member")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["image_member", "image_property", "image_tag", "image"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
