//! Domains (with the built-in `default` domain), projects and project tags.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

use super::{at, fk, flag, id, name, nullable_id, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("domain")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(name("name").unique_key())
                .col(text_null("description"))
                .col(flag("enabled", true))
                .col(at("created_at"))
                .col(at("updated_at"))
                .to_owned(),
        )
        .await?;
        // Keystone always has the `default` domain; users of a fresh cloud
        // are created in it. ON CONFLICT keeps a re-run after a crash harmless.
        let now = chrono::Utc::now();
        m.exec_stmt(
            Query::insert()
                .into_table("domain")
                .columns([
                    "id",
                    "name",
                    "description",
                    "enabled",
                    "created_at",
                    "updated_at",
                ])
                .values_panic([
                    "default".into(),
                    "Default".into(),
                    "The default domain".into(),
                    true.into(),
                    now.into(),
                    now.into(),
                ])
                .on_conflict(OnConflict::column("id").do_nothing().to_owned())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("project")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(name("name"))
                .col(id("domain_id"))
                .col(nullable_id("parent_id"))
                .col(text_null("description"))
                .col(flag("enabled", true))
                .col(at("created_at"))
                .col(at("updated_at"))
                .foreign_key(&mut fk(
                    "project",
                    "domain_id",
                    "domain",
                    ForeignKeyAction::Restrict,
                ))
                // A project with children cannot be deleted; the store says so first.
                .foreign_key(&mut fk(
                    "project",
                    "parent_id",
                    "project",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_project_domain_name")
                .table("project")
                .col("domain_id")
                .col("name")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("project_tag")
                .if_not_exists()
                .col(id("project_id"))
                .col(name("tag"))
                .primary_key(Index::create().col("project_id").col("tag"))
                .foreign_key(&mut fk(
                    "project_tag",
                    "project_id",
                    "project",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["project_tag", "project", "domain"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
