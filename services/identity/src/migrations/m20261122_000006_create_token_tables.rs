//! Token signing keys (the rotating key ring) and revocation events.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

use super::{at, at_null, id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("signing_key")
                .if_not_exists()
                .col(id("kid").primary_key())
                .col(ColumnDef::new("pem").text().not_null())
                .col(ColumnDef::new("state").string_len(16).not_null())
                .col(at_null("retired_at"))
                .col(at("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("revocation_event")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(ColumnDef::new("kind").string_len(32).not_null())
                .col(ColumnDef::new("subject").string_len(255).not_null())
                .col(at_null("issued_before"))
                // After this the revoked tokens have expired anyway and the
                // event can be pruned.
                .col(at_null("expires_at"))
                .col(at("created_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["revocation_event", "signing_key"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
