//! Users, groups (`user_group`: `group` is an SQL keyword) and memberships.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

use super::{at, at_null, fk, flag, id, name, nullable_id, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("user")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(name("name"))
                .col(id("domain_id"))
                .col(flag("enabled", true))
                // An argon2id PHC string; NULL for users that cannot log in
                // with a password.
                .col(text_null("password_hash"))
                // No foreign key: Keystone keeps the user when that project
                // goes and simply ignores a stale default.
                .col(nullable_id("default_project_id"))
                .col(at_null("password_expires_at"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .foreign_key(&mut fk(
                    "user",
                    "domain_id",
                    "domain",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        unique(m, "ux_user_domain_name", "user", &["domain_id", "name"]).await?;

        m.create_table(
            Table::create()
                .table("user_group")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(name("name"))
                .col(id("domain_id"))
                .col(text_null("description"))
                .foreign_key(&mut fk(
                    "user_group",
                    "domain_id",
                    "domain",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "ux_user_group_domain_name",
            "user_group",
            &["domain_id", "name"],
        )
        .await?;

        m.create_table(
            Table::create()
                .table("group_membership")
                .if_not_exists()
                .col(id("user_id"))
                .col(id("group_id"))
                .primary_key(Index::create().col("user_id").col("group_id"))
                // Deleting a user or a group ends its memberships.
                .foreign_key(&mut fk(
                    "group_membership",
                    "user_id",
                    "user",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "group_membership",
                    "group_id",
                    "user_group",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["group_membership", "user_group", "user"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// A unique index over `cols` of `table`.
pub(super) async fn unique(
    m: &SchemaManager<'_>,
    index: &'static str,
    table: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(index).table(table).unique().if_not_exists();
    for c in cols {
        idx.col(*c);
    }
    m.create_index(idx.to_owned()).await
}
