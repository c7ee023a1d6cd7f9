//! Routers, and which ports are theirs: interfaces on tenant subnets and
//! the gateway port on an external network (`router_port`); floating IPs,
//! each an address of an external network's port, mapped to a fixed
//! address of a tenant port through a router.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("router")
                .if_not_exists()
                .col(ColumnDef::new("id").string_len(36).not_null().primary_key())
                .col(ColumnDef::new("project_id").string_len(64).not_null())
                .col(ColumnDef::new("name").string_len(255).not_null())
                .col(ColumnDef::new("description").string_len(255).not_null())
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
                .col(ColumnDef::new("revision_number").big_integer().not_null())
                .col(ColumnDef::new("admin_state_up").boolean().not_null())
                .col(ColumnDef::new("status").string_len(16).not_null())
                // The external network of its gateway, if it has one.
                .col(ColumnDef::new("gateway_network_id").string_len(36).null())
                .col(ColumnDef::new("enable_snat").boolean().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_router_project_id")
                .table("router")
                .col("project_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("router_port")
                .if_not_exists()
                .col(
                    ColumnDef::new("port_id")
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("router_id").string_len(36).not_null())
                // network:router_interface | network:router_gateway
                .col(ColumnDef::new("port_type").string_len(32).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_router_port_router")
                        .from("router_port", "router_id")
                        .to("router", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_router_port_port")
                        .from("router_port", "port_id")
                        .to("port", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_router_port_router")
                .table("router_port")
                .col("router_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("floatingip")
                .if_not_exists()
                .col(ColumnDef::new("id").string_len(36).not_null().primary_key())
                .col(ColumnDef::new("project_id").string_len(64).not_null())
                .col(ColumnDef::new("description").string_len(255).not_null())
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
                .col(ColumnDef::new("revision_number").big_integer().not_null())
                .col(
                    ColumnDef::new("floating_network_id")
                        .string_len(36)
                        .not_null(),
                )
                // The external network's port holding the address.
                .col(ColumnDef::new("floating_port_id").string_len(36).not_null())
                .col(
                    ColumnDef::new("floating_ip_address")
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new("port_id").string_len(36).null())
                .col(ColumnDef::new("fixed_ip_address").string_len(64).null())
                .col(ColumnDef::new("router_id").string_len(36).null())
                .col(ColumnDef::new("status").string_len(16).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_floatingip_floating_port")
                        .from("floatingip", "floating_port_id")
                        .to("port", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_floatingip_port")
                        .from("floatingip", "port_id")
                        .to("port", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_floatingip_project_id", "project_id"),
            ("ix_floatingip_port_id", "port_id"),
            ("ix_floatingip_router_id", "router_id"),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table("floatingip")
                    .col(col)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["floatingip", "router_port", "router"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
