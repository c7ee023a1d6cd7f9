//! Subnets: a CIDR of a network, its gateway, allocation pools, DNS
//! servers and host routes (the three lists as JSON text, read and written
//! whole with the subnet).

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subnet")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision_number: i64,
    pub network_id: String,
    pub ip_version: i32,
    pub cidr: String,
    pub gateway_ip: Option<String>,
    pub enable_dhcp: bool,
    pub ipv6_ra_mode: Option<String>,
    pub ipv6_address_mode: Option<String>,
    pub allocation_pools: String,
    pub dns_nameservers: String,
    pub host_routes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model().insert(db).await.map_err(internal)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// A network's subnets, oldest first (the order ports take addresses in).
pub async fn of_network(db: &impl ConnectionTrait, network_id: &str) -> Result<Vec<Model>, Error> {
    of_networks(db, &[network_id.to_owned()]).await
}

pub async fn of_networks(
    db: &impl ConnectionTrait,
    network_ids: &[String],
) -> Result<Vec<Model>, Error> {
    if network_ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .filter(Column::NetworkId.is_in(network_ids.iter().cloned()))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
        .map_err(internal)
}

pub async fn update(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    let am = m.into_active_model().reset_all();
    am.update(db).await.map_err(internal)
}

/// Deletes it; `Ok(false)` when an address taken meanwhile refers to it.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool, Error> {
    match Entity::delete_by_id(id.to_owned()).exec(db).await {
        Ok(_) => Ok(true),
        Err(e) if super::is_fk_violation(&e) => Ok(false),
        Err(e) => Err(internal(e)),
    }
}
