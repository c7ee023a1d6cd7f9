//! Flavors (`flavor`), their extra specs (`flavor_extra_spec`) and the
//! projects a private flavor is shared with (`flavor_access`).

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("flavor")
                .if_not_exists()
                // Nova's `flavorid`: what the API calls a flavor's id.
                .col(
                    ColumnDef::new("id")
                        .string_len(255)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new("name")
                        .string_len(255)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new("memory_mb").integer().not_null())
                .col(ColumnDef::new("vcpus").integer().not_null())
                .col(ColumnDef::new("root_gb").integer().not_null())
                .col(ColumnDef::new("ephemeral_gb").integer().not_null())
                .col(ColumnDef::new("swap").integer().not_null())
                .col(ColumnDef::new("rxtx_factor").double().not_null())
                .col(ColumnDef::new("is_public").boolean().not_null())
                .col(ColumnDef::new("disabled").boolean().not_null())
                .col(ColumnDef::new("description").text().null())
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
        m.create_table(
            Table::create()
                .table("flavor_extra_spec")
                .if_not_exists()
                .col(ColumnDef::new("flavor_id").string_len(255).not_null())
                .col(ColumnDef::new("key").string_len(255).not_null())
                .col(ColumnDef::new("value").string_len(255).not_null())
                .primary_key(Index::create().col("flavor_id").col("key"))
                .foreign_key(
                    ForeignKey::create()
                        .from("flavor_extra_spec", "flavor_id")
                        .to("flavor", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("flavor_access")
                .if_not_exists()
                .col(ColumnDef::new("flavor_id").string_len(255).not_null())
                .col(ColumnDef::new("project_id").string_len(64).not_null())
                .primary_key(Index::create().col("flavor_id").col("project_id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("flavor_access", "flavor_id")
                        .to("flavor", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["flavor_access", "flavor_extra_spec", "flavor"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
