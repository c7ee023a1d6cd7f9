//! Virga's edge model over the provider trees: sites (a tree's root) with
//! their kind, region, place and measured network quality; nodes (a
//! site's children) with what the agent reported and when it was last
//! heard; and reservations, the claims `select` made that expire unless
//! confirmed.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn provider_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_provider"))
        .from(table, "uuid")
        .to("resource_provider", "uuid")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(255).not_null().to_owned()
}

fn real(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).double().null().to_owned()
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
                .table("site")
                .if_not_exists()
                .col(
                    ColumnDef::new("uuid")
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(text("kind"))
                .col(text("region"))
                .col(real("latitude"))
                .col(real("longitude"))
                // Network quality to the centre, as last measured.
                .col(real("latency_ms"))
                .col(real("bandwidth_mbps"))
                .col(real("packet_loss"))
                .col(
                    ColumnDef::new("quality_at")
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(at("created_at"))
                .col(at("updated_at"))
                .foreign_key(&mut provider_fk("site"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("node")
                .if_not_exists()
                .col(
                    ColumnDef::new("uuid")
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("site_uuid").string_len(36).not_null())
                .col(text("hostname"))
                .col(text("kind"))
                .col(text("arch"))
                // JSON: labels {k: v}; load {cpu, memory, ...}; the images
                // and OCI layers the node's cache holds.
                .col(ColumnDef::new("labels").text().not_null())
                .col(ColumnDef::new("load").text().not_null())
                .col(ColumnDef::new("images").text().not_null())
                .col(ColumnDef::new("layers").text().not_null())
                .col(ColumnDef::new("disabled").boolean().not_null())
                // Set once a silent node's going down was announced, so it
                // is announced once, and its coming back too.
                .col(ColumnDef::new("down_reported").boolean().not_null())
                .col(
                    ColumnDef::new("last_seen")
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(at("created_at"))
                .col(at("updated_at"))
                .foreign_key(&mut provider_fk("node"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_node_site")
                .table("node")
                .col("site_uuid")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("reservation")
                .if_not_exists()
                .col(
                    ColumnDef::new("consumer_id")
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("node_uuid").string_len(36).not_null())
                .col(ColumnDef::new("group_id").string_len(255).null())
                .col(ColumnDef::new("group_policy").string_len(32).null())
                // Null once confirmed: a confirmed claim never expires.
                .col(
                    ColumnDef::new("expires_at")
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(at("created_at"))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_reservation_group", "group_id"),
            ("ix_reservation_expiry", "expires_at"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table("reservation")
                    .col(col)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["reservation", "node", "site"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
