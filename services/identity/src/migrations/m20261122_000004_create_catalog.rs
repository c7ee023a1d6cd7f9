//! The service catalog: regions, services and endpoints.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

use super::{fk, flag, id, name, nullable_id, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("region")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(text_null("description"))
                .col(nullable_id("parent_region_id"))
                .foreign_key(&mut fk(
                    "region",
                    "parent_region_id",
                    "region",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("service")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(name("type"))
                .col(ColumnDef::new("name").string_len(255).null())
                .col(text_null("description"))
                .col(flag("enabled", true))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("endpoint")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(id("service_id"))
                .col(nullable_id("region_id"))
                .col(ColumnDef::new("interface").string_len(16).not_null())
                .col(ColumnDef::new("url").text().not_null())
                .col(flag("enabled", true))
                // Keystone deletes a service's endpoints with it.
                .foreign_key(&mut fk(
                    "endpoint",
                    "service_id",
                    "service",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "endpoint",
                    "region_id",
                    "region",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["endpoint", "service", "region"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
