//! Roles and role assignments.
//!
//! Role names are unique per domain, and global roles (no domain) are unique
//! among themselves. A plain unique index on (name, domain_id) cannot give the
//! latter: NULL never equals NULL, so two global `admin` roles would both pass
//! on SQLite and PostgreSQL alike. A partial unique index on (name) WHERE
//! domain_id IS NULL enforces it in the database on both backends, keeps the
//! foreign key to `domain` (which an '' sentinel would break) and is free of
//! the race a check-then-insert in the store would have.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

use super::m20261122_000002_create_users_groups::unique;
use super::{fk, flag, id, name, nullable_id, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("role")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(name("name"))
                .col(nullable_id("domain_id"))
                .col(text_null("description"))
                .foreign_key(&mut fk(
                    "role",
                    "domain_id",
                    "domain",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;
        unique(m, "ux_role_name_domain", "role", &["name", "domain_id"]).await?;
        m.create_index(
            Index::create()
                .name("ux_role_global_name")
                .table("role")
                .col("name")
                .unique()
                .if_not_exists()
                .and_where(Expr::col("domain_id").is_null())
                .to_owned(),
        )
        .await?;

        // Actors and targets are polymorphic (user or group; project, domain
        // or system), so only the role has a foreign key; the store removes
        // an actor's or target's assignments when it deletes it.
        m.create_table(
            Table::create()
                .table("assignment")
                .if_not_exists()
                .col(ColumnDef::new("actor_type").string_len(16).not_null())
                .col(id("actor_id"))
                .col(ColumnDef::new("target_type").string_len(16).not_null())
                .col(id("target_id"))
                .col(id("role_id"))
                .col(flag("inherited", false))
                .primary_key(
                    Index::create()
                        .col("actor_type")
                        .col("actor_id")
                        .col("target_type")
                        .col("target_id")
                        .col("role_id")
                        .col("inherited"),
                )
                .foreign_key(&mut fk(
                    "assignment",
                    "role_id",
                    "role",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        // Listing by actor is the hot path (token issue computes roles).
        m.create_index(
            Index::create()
                .name("ix_assignment_actor")
                .table("assignment")
                .col("actor_id")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["assignment", "role"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
