//! Security groups, their rules, which ports are in which groups, and each
//! project's default group (one per project: the primary key makes two
//! concurrent first ports of a project agree on one).

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn stamps(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(
        ColumnDef::new("created_at")
            .timestamp_with_time_zone()
            .not_null(),
    )
    .col(
        ColumnDef::new("updated_at")
            .timestamp_with_time_zone()
            .not_null(),
    )
    .col(ColumnDef::new("revision_number").big_integer().not_null())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            stamps(
                Table::create()
                    .table("security_group")
                    .if_not_exists()
                    .col(ColumnDef::new("id").string_len(36).not_null().primary_key())
                    .col(ColumnDef::new("project_id").string_len(64).not_null())
                    .col(ColumnDef::new("name").string_len(255).not_null())
                    .col(ColumnDef::new("description").string_len(255).not_null())
                    .col(ColumnDef::new("stateful").boolean().not_null()),
            )
            .to_owned(),
        )
        .await?;
        m.create_table(
            stamps(
                Table::create()
                    .table("security_group_rule")
                    .if_not_exists()
                    .col(ColumnDef::new("id").string_len(36).not_null().primary_key())
                    .col(ColumnDef::new("project_id").string_len(64).not_null())
                    .col(
                        ColumnDef::new("security_group_id")
                            .string_len(36)
                            .not_null(),
                    )
                    // ingress | egress
                    .col(ColumnDef::new("direction").string_len(8).not_null())
                    // IPv4 | IPv6
                    .col(ColumnDef::new("ethertype").string_len(8).not_null())
                    // A name or "0".."255"; NULL is any.
                    .col(ColumnDef::new("protocol").string_len(16).null())
                    .col(ColumnDef::new("port_range_min").integer().null())
                    .col(ColumnDef::new("port_range_max").integer().null())
                    .col(ColumnDef::new("remote_ip_prefix").string_len(64).null())
                    .col(ColumnDef::new("remote_group_id").string_len(36).null())
                    .col(ColumnDef::new("description").string_len(255).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_security_group_rule_group")
                            .from("security_group_rule", "security_group_id")
                            .to("security_group", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_security_group_rule_remote")
                            .from("security_group_rule", "remote_group_id")
                            .to("security_group", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    ),
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_security_group_rule_group")
                .table("security_group_rule")
                .col("security_group_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("port_security_group")
                .if_not_exists()
                .col(ColumnDef::new("port_id").string_len(36).not_null())
                .col(
                    ColumnDef::new("security_group_id")
                        .string_len(36)
                        .not_null(),
                )
                .primary_key(Index::create().col("port_id").col("security_group_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_port_security_group_port")
                        .from("port_security_group", "port_id")
                        .to("port", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                // A group ports are in cannot be deleted under them.
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_port_security_group_group")
                        .from("port_security_group", "security_group_id")
                        .to("security_group", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_port_security_group_group")
                .table("port_security_group")
                .col("security_group_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("default_security_group")
                .if_not_exists()
                .col(
                    ColumnDef::new("project_id")
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new("security_group_id")
                        .string_len(36)
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_default_security_group_group")
                        .from("default_security_group", "security_group_id")
                        .to("security_group", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "default_security_group",
            "port_security_group",
            "security_group_rule",
            "security_group",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
