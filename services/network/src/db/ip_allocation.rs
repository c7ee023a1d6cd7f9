//! The addresses ports hold: one row per (subnet, address), the key that
//! makes an address impossible to hand out twice.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::OnConflict;
use virga_db::sea_orm::{ActiveValue::Set, PaginatorTrait, QueryOrder, QuerySelect};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ip_allocation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub subnet_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ip_address: String,
    pub network_id: String,
    pub port_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Takes the address for the port; false when it is already held. Never
/// fails on a taken address, so a transaction can go on and try another.
pub async fn take(
    db: &impl ConnectionTrait,
    network_id: &str,
    subnet_id: &str,
    ip: &str,
    port_id: &str,
) -> Result<bool, Error> {
    let row = ActiveModel {
        subnet_id: Set(subnet_id.to_owned()),
        ip_address: Set(ip.to_owned()),
        network_id: Set(network_id.to_owned()),
        port_id: Set(port_id.to_owned()),
    };
    let n = Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::SubnetId, Column::IpAddress])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(internal)?;
    Ok(n == 1)
}

/// Every address the subnet hands out.
pub async fn held(db: &impl ConnectionTrait, subnet_id: &str) -> Result<Vec<String>, Error> {
    Entity::find()
        .select_only()
        .column(Column::IpAddress)
        .filter(Column::SubnetId.eq(subnet_id))
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)
}

/// The port holding an address of the subnet, if any.
pub async fn holder(
    db: &impl ConnectionTrait,
    subnet_id: &str,
    ip: &str,
) -> Result<Option<String>, Error> {
    Ok(Entity::find_by_id((subnet_id.to_owned(), ip.to_owned()))
        .one(db)
        .await
        .map_err(internal)?
        .map(|m| m.port_id))
}

pub async fn count_in_subnet(db: &impl ConnectionTrait, subnet_id: &str) -> Result<u64, Error> {
    Entity::find()
        .filter(Column::SubnetId.eq(subnet_id))
        .count(db)
        .await
        .map_err(internal)
}

/// The ports' addresses, by port, in the order they were taken per subnet.
pub async fn of_ports(
    db: &impl ConnectionTrait,
    port_ids: &[String],
) -> Result<BTreeMap<String, Vec<Model>>, Error> {
    let mut out: BTreeMap<String, Vec<Model>> = BTreeMap::new();
    for chunk in port_ids.chunks(500) {
        let rows = Entity::find()
            .filter(Column::PortId.is_in(chunk.iter().cloned()))
            .order_by_asc(Column::SubnetId)
            .order_by_asc(Column::IpAddress)
            .all(db)
            .await
            .map_err(internal)?;
        for r in rows {
            out.entry(r.port_id.clone()).or_default().push(r);
        }
    }
    Ok(out)
}

/// Gives back some of a port's addresses.
pub async fn release(
    db: &impl ConnectionTrait,
    port_id: &str,
    which: &[(String, String)],
) -> Result<(), Error> {
    for (subnet, ip) in which {
        Entity::delete_many()
            .filter(Column::PortId.eq(port_id))
            .filter(Column::SubnetId.eq(subnet.as_str()))
            .filter(Column::IpAddress.eq(ip.as_str()))
            .exec(db)
            .await
            .map_err(internal)?;
    }
    Ok(())
}

/// The ports holding an address in one of `subnets` (any, when empty)
/// that is one of `ips` (any, when empty).
pub async fn ports_matching(
    db: &impl ConnectionTrait,
    subnets: &[String],
    ips: &[String],
) -> Result<Vec<String>, Error> {
    let mut q = Entity::find().select_only().column(Column::PortId);
    if !subnets.is_empty() {
        q = q.filter(Column::SubnetId.is_in(subnets.iter().cloned()));
    }
    if !ips.is_empty() {
        q = q.filter(Column::IpAddress.is_in(ips.iter().cloned()));
    }
    q.distinct().into_tuple().all(db).await.map_err(internal)
}
