//! The nodes the network service plans for (`network_node`): what each
//! agent said of itself (tunnel address, physical networks), the
//! generation and fingerprint of the last plan sent to it, and what it
//! last applied. One row in `network_plan_lock` serialises plan syncs.

use virga_db::sea_orm_migration;
use virga_db::sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("network_node")
                .if_not_exists()
                .col(
                    ColumnDef::new("node_id")
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("tunnel_ip").string_len(64).null())
                // JSON list of physical network names.
                .col(ColumnDef::new("physical_networks").text().not_null())
                // The last plan sent: its generation, fingerprint and the
                // plan itself (JSON; which ports it holds, what the node
                // was told).
                .col(ColumnDef::new("generation").big_integer().not_null())
                .col(ColumnDef::new("plan_hash").string_len(64).not_null())
                .col(ColumnDef::new("plan").text().not_null())
                // What the agent last reported applying, and its errors
                // (JSON list).
                .col(
                    ColumnDef::new("applied_generation")
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new("errors").text().not_null())
                .col(
                    ColumnDef::new("reported_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("network_plan_lock")
                .if_not_exists()
                .col(ColumnDef::new("id").integer().not_null().primary_key())
                .col(ColumnDef::new("syncs").big_integer().not_null())
                .to_owned(),
        )
        .await?;
        let row = Query::insert()
            .into_table("network_plan_lock")
            .columns(["id", "syncs"])
            .values_panic([1.into(), 0i64.into()])
            .to_owned();
        m.exec_stmt(row).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table("network_plan_lock")
                .if_exists()
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("network_node").if_exists().to_owned())
            .await
    }
}
