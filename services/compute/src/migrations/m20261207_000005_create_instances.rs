//! Servers (`instance`, Nova's name for the row) and the progress of the
//! multi-step operation each one is under (`instance_saga`).

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn when(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("instance")
                .if_not_exists()
                .col(ColumnDef::new("id").string_len(36).not_null().primary_key())
                .col(ColumnDef::new("project_id").string_len(64).not_null())
                .col(ColumnDef::new("user_id").string_len(64).not_null())
                .col(ColumnDef::new("name").string_len(255).not_null())
                .col(ColumnDef::new("description").text())
                .col(ColumnDef::new("reservation_id").string_len(36).not_null())
                .col(ColumnDef::new("launch_index").integer().not_null())
                .col(ColumnDef::new("flavor_id").string_len(255).not_null())
                .col(text("flavor"))
                .col(ColumnDef::new("vcpus").integer().not_null())
                .col(ColumnDef::new("memory_mb").big_integer().not_null())
                .col(ColumnDef::new("root_gb").integer().not_null())
                .col(ColumnDef::new("image_id").string_len(36).not_null())
                .col(ColumnDef::new("key_name").string_len(255))
                .col(ColumnDef::new("key_data").text())
                .col(ColumnDef::new("user_data").text())
                .col(text("metadata"))
                .col(text("networks"))
                .col(text("network_info"))
                .col(ColumnDef::new("availability_zone").string_len(255))
                .col(ColumnDef::new("server_group_id").string_len(36))
                .col(ColumnDef::new("node_id").string_len(36))
                .col(ColumnDef::new("site_id").string_len(36))
                .col(ColumnDef::new("vm_state").string_len(32).not_null())
                .col(ColumnDef::new("task_state").string_len(32))
                .col(ColumnDef::new("power_state").integer().not_null())
                .col(ColumnDef::new("generation").big_integer().not_null())
                .col(ColumnDef::new("locked").boolean().not_null())
                .col(ColumnDef::new("fault").text())
                .col(when("created_at").not_null())
                .col(when("updated_at").not_null())
                .col(when("launched_at"))
                .col(when("deleted_at"))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("instance_project", "project_id"),
            ("instance_node", "node_id"),
            ("instance_updated", "updated_at"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table("instance")
                    .col(col)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("instance_saga")
                .if_not_exists()
                .col(
                    ColumnDef::new("instance_id")
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("kind").string_len(32).not_null())
                .col(ColumnDef::new("step").string_len(32).not_null())
                .col(text("data"))
                .col(when("deadline").not_null())
                .col(when("updated_at").not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from("instance_saga", "instance_id")
                        .to("instance", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["instance_saga", "instance"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
