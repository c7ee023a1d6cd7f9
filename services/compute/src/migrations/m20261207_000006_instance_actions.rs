//! What server actions need: the image as the caller saw it (a rebuild or
//! a power change sends the node the whole spec again), who locked a
//! server and why, the security groups asked for its ports, and the
//! instance actions log (Nova's
//! `instance_actions` and `instance_actions_events`).

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn when(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).timestamp_with_time_zone().to_owned()
}

/// Adds `col` to `instance` unless a start that crashed midway did.
async fn add(m: &SchemaManager<'_>, name: &str, col: ColumnDef) -> Result<(), DbErr> {
    if m.has_column("instance", name).await? {
        return Ok(());
    }
    // One column a statement: SQLite alters one thing at a time.
    m.alter_table(Table::alter().table("instance").add_column(col).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(
            m,
            "image",
            ColumnDef::new("image")
                .text()
                .not_null()
                .default("{}")
                .to_owned(),
        )
        .await?;
        add(
            m,
            "security_groups",
            ColumnDef::new("security_groups")
                .text()
                .not_null()
                .default("[]")
                .to_owned(),
        )
        .await?;
        add(
            m,
            "locked_by",
            ColumnDef::new("locked_by").string_len(16).to_owned(),
        )
        .await?;
        add(
            m,
            "locked_reason",
            ColumnDef::new("locked_reason").text().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("instance_action")
                .if_not_exists()
                .col(ColumnDef::new("id").string_len(36).not_null().primary_key())
                .col(ColumnDef::new("instance_id").string_len(36).not_null())
                .col(ColumnDef::new("request_id").string_len(64).not_null())
                .col(ColumnDef::new("action").string_len(32).not_null())
                .col(ColumnDef::new("user_id").string_len(64).not_null())
                .col(ColumnDef::new("project_id").string_len(64).not_null())
                .col(ColumnDef::new("message").text())
                .col(when("start_time").not_null())
                .col(when("updated_at").not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from("instance_action", "instance_id")
                        .to("instance", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("instance_action_request")
                .table("instance_action")
                .col("instance_id")
                .col("request_id")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("instance_action_event")
                .if_not_exists()
                .col(ColumnDef::new("id").string_len(36).not_null().primary_key())
                .col(ColumnDef::new("action_id").string_len(36).not_null())
                .col(ColumnDef::new("event").string_len(64).not_null())
                .col(when("start_time").not_null())
                .col(when("finish_time"))
                .col(ColumnDef::new("result").string_len(16))
                .col(ColumnDef::new("traceback").text())
                .col(ColumnDef::new("host").string_len(36))
                .foreign_key(
                    ForeignKey::create()
                        .from("instance_action_event", "action_id")
                        .to("instance_action", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("instance_action_event_action")
                .table("instance_action_event")
                .col("action_id")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["instance_action_event", "instance_action"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        for c in ["locked_reason", "locked_by", "security_groups", "image"] {
            m.alter_table(Table::alter().table("instance").drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}
