//! Networks, their subnets, ports, and the addresses ports hold.
//!
//! A network's segment (type, physical network, id) is unique, so two
//! networks never share a VLAN or a VXLAN id. An address is unique per
//! subnet: the primary key of `ip_allocation` is what makes two concurrent
//! port creations unable to take the same address.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn standard(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(ColumnDef::new("id").string_len(36).not_null().primary_key())
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
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            standard(Table::create().table("network").if_not_exists())
                .col(ColumnDef::new("admin_state_up").boolean().not_null())
                .col(ColumnDef::new("status").string_len(16).not_null())
                .col(ColumnDef::new("shared").boolean().not_null())
                .col(ColumnDef::new("external").boolean().not_null())
                .col(ColumnDef::new("mtu").integer().not_null())
                .col(ColumnDef::new("port_security_enabled").boolean().not_null())
                // flat | vlan | vxlan
                .col(ColumnDef::new("network_type").string_len(16).not_null())
                // "" when the type has none (vxlan).
                .col(ColumnDef::new("physical_network").string_len(64).not_null())
                // 0 for flat.
                .col(ColumnDef::new("segmentation_id").integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_network_segment")
                .table("network")
                .col("network_type")
                .col("physical_network")
                .col("segmentation_id")
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            standard(Table::create().table("subnet").if_not_exists())
                .col(ColumnDef::new("network_id").string_len(36).not_null())
                .col(ColumnDef::new("ip_version").integer().not_null())
                .col(ColumnDef::new("cidr").string_len(64).not_null())
                .col(ColumnDef::new("gateway_ip").string_len(64).null())
                .col(ColumnDef::new("enable_dhcp").boolean().not_null())
                .col(ColumnDef::new("ipv6_ra_mode").string_len(16).null())
                .col(ColumnDef::new("ipv6_address_mode").string_len(16).null())
                // JSON lists, read and written whole with the subnet.
                .col(ColumnDef::new("allocation_pools").text().not_null())
                .col(ColumnDef::new("dns_nameservers").text().not_null())
                .col(ColumnDef::new("host_routes").text().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_subnet_network_id")
                        .from("subnet", "network_id")
                        .to("network", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_subnet_network_id")
                .table("subnet")
                .col("network_id")
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            standard(Table::create().table("port").if_not_exists())
                .col(ColumnDef::new("network_id").string_len(36).not_null())
                .col(ColumnDef::new("mac_address").string_len(32).not_null())
                .col(ColumnDef::new("admin_state_up").boolean().not_null())
                .col(ColumnDef::new("status").string_len(16).not_null())
                .col(ColumnDef::new("device_id").string_len(255).not_null())
                .col(ColumnDef::new("device_owner").string_len(255).not_null())
                .col(ColumnDef::new("port_security_enabled").boolean().not_null())
                .col(ColumnDef::new("binding_host_id").string_len(255).not_null())
                .col(
                    ColumnDef::new("binding_vnic_type")
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new("binding_profile").text().not_null())
                .col(ColumnDef::new("allowed_address_pairs").text().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_port_network_id")
                        .from("port", "network_id")
                        .to("network", "id"),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols, unique) in [
            ("ux_port_mac", &["network_id", "mac_address"][..], true),
            ("ix_port_device_id", &["device_id"][..], false),
        ] {
            let mut ix = Index::create();
            ix.name(name).table("port").if_not_exists();
            for c in cols {
                ix.col(*c);
            }
            if unique {
                ix.unique();
            }
            m.create_index(ix.to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table("ip_allocation")
                .if_not_exists()
                .col(ColumnDef::new("subnet_id").string_len(36).not_null())
                .col(ColumnDef::new("ip_address").string_len(64).not_null())
                .col(ColumnDef::new("network_id").string_len(36).not_null())
                .col(ColumnDef::new("port_id").string_len(36).not_null())
                .primary_key(Index::create().col("subnet_id").col("ip_address"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ip_allocation_port_id")
                        .from("ip_allocation", "port_id")
                        .to("port", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ip_allocation_subnet_id")
                        .from("ip_allocation", "subnet_id")
                        .to("subnet", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_ip_allocation_port_id")
                .table("ip_allocation")
                .col("port_id")
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["ip_allocation", "port", "subnet", "network"] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
