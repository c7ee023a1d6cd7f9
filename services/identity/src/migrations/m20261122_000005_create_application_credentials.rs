//! Application credentials: a user's delegated, project-scoped secrets.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

use super::m20261122_000002_create_users_groups::unique;
use super::{at, at_null, fk, flag, id, name, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("application_credential")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(id("user_id"))
                // No foreign key: the credential dies with its user, and a
                // deleted project only makes it unusable (checked at auth).
                .col(id("project_id"))
                .col(name("name"))
                .col(text_null("description"))
                .col(ColumnDef::new("secret_hash").text().not_null())
                .col(at_null("expires_at"))
                .col(flag("unrestricted", false))
                // JSON list of role ids, as text so both backends store it alike.
                .col(ColumnDef::new("roles").text().not_null())
                .col(at("created_at"))
                .foreign_key(&mut fk(
                    "application_credential",
                    "user_id",
                    "user",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "ux_application_credential_user_name",
            "application_credential",
            &["user_id", "name"],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table("application_credential")
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
