//! Floating IPs: an address of an external network (held by a port there)
//! and, when associated, the tenant port, fixed address and router it is
//! mapped through.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::Expr;
use virga_db::sea_orm::{IntoActiveModel, PaginatorTrait};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "floatingip")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub project_id: String,
    pub description: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision_number: i64,
    pub floating_network_id: String,
    pub floating_port_id: String,
    pub floating_ip_address: String,
    pub port_id: Option<String>,
    pub fixed_ip_address: Option<String>,
    pub router_id: Option<String>,
    pub status: String,
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

pub async fn update(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    let am = m.into_active_model().reset_all();
    am.update(db).await.map_err(internal)
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// The floating IP already mapped to this fixed address of the port on
/// this external network, if any.
pub async fn mapped(
    db: &impl ConnectionTrait,
    network_id: &str,
    port_id: &str,
    fixed: &str,
) -> Result<Option<Model>, Error> {
    Entity::find()
        .filter(Column::FloatingNetworkId.eq(network_id))
        .filter(Column::PortId.eq(port_id))
        .filter(Column::FixedIpAddress.eq(fixed))
        .one(db)
        .await
        .map_err(internal)
}

/// The floating IPs routed through the router.
pub async fn of_router(db: &impl ConnectionTrait, router_id: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::RouterId.eq(router_id))
        .all(db)
        .await
        .map_err(internal)
}

/// Forgets the associations of the port's floating IPs (the port goes).
pub async fn disassociate_port(db: &impl ConnectionTrait, port_id: &str) -> Result<(), Error> {
    Entity::update_many()
        .col_expr(Column::PortId, Expr::value(Option::<String>::None))
        .col_expr(Column::FixedIpAddress, Expr::value(Option::<String>::None))
        .col_expr(Column::RouterId, Expr::value(Option::<String>::None))
        .col_expr(Column::Status, Expr::value("DOWN"))
        .filter(Column::PortId.eq(port_id))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

pub async fn count_on_router(db: &impl ConnectionTrait, router_id: &str) -> Result<u64, Error> {
    Entity::find()
        .filter(Column::RouterId.eq(router_id))
        .count(db)
        .await
        .map_err(internal)
}
