//! Federation: identity providers (with their OpenID Connect client), the
//! mappings from their claims to users and groups, the protocols joining
//! the two, the shadow users they provision, their expiring group
//! memberships, and browser logins in flight.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

use super::m20261122_000002_create_users_groups::unique;
use super::{at, fk, flag, id, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A remote id (an issuer URL) or a claim value: longer than a Keystone id.
fn long(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(255).not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("identity_provider")
                .if_not_exists()
                .col(id("id").primary_key())
                .col(id("domain_id"))
                .col(text_null("description"))
                .col(flag("enabled", true))
                // Minutes a mapped group membership outlives its login.
                .col(ColumnDef::new("authorization_ttl").integer().null())
                .col(text_null("oidc_issuer"))
                .col(text_null("oidc_client_id"))
                .col(text_null("oidc_client_secret"))
                // Space-separated, as in an OAuth request.
                .col(text_null("oidc_scopes"))
                .col(at("created_at"))
                .col(at("updated_at"))
                // A domain with identity providers cannot go: its users would.
                .foreign_key(&mut fk(
                    "identity_provider",
                    "domain_id",
                    "domain",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;

        // The primary key makes a remote id name one provider only, so a
        // login is never ambiguous (Keystone answers 409 too).
        m.create_table(
            Table::create()
                .table("idp_remote_id")
                .if_not_exists()
                .col(long("remote_id").primary_key())
                .col(id("idp_id"))
                .foreign_key(&mut fk(
                    "idp_remote_id",
                    "idp_id",
                    "identity_provider",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("federation_mapping")
                .if_not_exists()
                .col(id("id").primary_key())
                // The rules as JSON text, so both backends store them alike.
                .col(ColumnDef::new("rules").text().not_null())
                .col(ColumnDef::new("schema_version").string_len(16).not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("federation_protocol")
                .if_not_exists()
                .col(id("idp_id"))
                .col(id("id"))
                .col(id("mapping_id"))
                .col(text_null("remote_id_attribute"))
                .primary_key(Index::create().col("idp_id").col("id"))
                .foreign_key(&mut fk(
                    "federation_protocol",
                    "idp_id",
                    "identity_provider",
                    ForeignKeyAction::Cascade,
                ))
                // A mapping in use cannot be deleted.
                .foreign_key(&mut fk(
                    "federation_protocol",
                    "mapping_id",
                    "federation_mapping",
                    ForeignKeyAction::Restrict,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("federated_user")
                .if_not_exists()
                .col(id("idp_id"))
                .col(id("protocol_id"))
                .col(long("unique_id"))
                .col(id("user_id"))
                .col(text_null("display_name"))
                .primary_key(
                    Index::create()
                        .col("idp_id")
                        .col("protocol_id")
                        .col("unique_id"),
                )
                .foreign_key(&mut fk(
                    "federated_user",
                    "user_id",
                    "user",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "federated_user",
                    "idp_id",
                    "identity_provider",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "ix_federated_user_user",
            "federated_user",
            &["user_id", "idp_id", "protocol_id"],
        )
        .await?;

        m.create_table(
            Table::create()
                .table("expiring_group_membership")
                .if_not_exists()
                .col(id("user_id"))
                .col(id("group_id"))
                .col(id("idp_id"))
                .col(at("expires_at"))
                .primary_key(Index::create().col("user_id").col("group_id").col("idp_id"))
                .foreign_key(&mut fk(
                    "expiring_group_membership",
                    "user_id",
                    "user",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "expiring_group_membership",
                    "group_id",
                    "user_group",
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut fk(
                    "expiring_group_membership",
                    "idp_id",
                    "identity_provider",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sso_login")
                .if_not_exists()
                // The OAuth `state`; random, so also the key.
                .col(id("state").primary_key())
                .col(id("idp_id"))
                .col(id("protocol_id"))
                .col(ColumnDef::new("nonce").text().not_null())
                .col(ColumnDef::new("pkce_verifier").text().not_null())
                .col(ColumnDef::new("origin").text().not_null())
                .col(ColumnDef::new("redirect_uri").text().not_null())
                .col(at("expires_at"))
                .foreign_key(&mut fk(
                    "sso_login",
                    "idp_id",
                    "identity_provider",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "sso_login",
            "expiring_group_membership",
            "federated_user",
            "federation_protocol",
            "federation_mapping",
            "idp_remote_id",
            "identity_provider",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
