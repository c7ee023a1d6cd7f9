//! Routers and their ports (`router_port`: interfaces and the gateway).

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryOrder};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "router")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision_number: i64,
    pub admin_state_up: bool,
    pub status: String,
    pub gateway_network_id: Option<String>,
    pub enable_snat: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `router_port` table.
pub mod port {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "router_port")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub port_id: String,
        pub router_id: String,
        pub port_type: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub const INTERFACE: &str = "network:router_interface";
pub const GATEWAY: &str = "network:router_gateway";

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

/// Bumps the revision and, being a write, makes the transaction the
/// router's only writer (see `super::touch`).
pub async fn touch(db: &impl ConnectionTrait, id: &str) -> Result<bool, Error> {
    super::touch::<Entity>(
        db,
        (Column::Id, id),
        Column::RevisionNumber,
        Column::UpdatedAt,
    )
    .await
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

pub async fn add_port(
    db: &impl ConnectionTrait,
    router_id: &str,
    port_id: &str,
    port_type: &str,
) -> Result<(), Error> {
    port::Entity::insert(port::ActiveModel {
        port_id: Set(port_id.to_owned()),
        router_id: Set(router_id.to_owned()),
        port_type: Set(port_type.to_owned()),
    })
    .exec_without_returning(db)
    .await
    .map_err(internal)?;
    Ok(())
}

/// The router's ports of one type, oldest first.
pub async fn ports_of(
    db: &impl ConnectionTrait,
    router_id: &str,
    port_type: Option<&str>,
) -> Result<Vec<String>, Error> {
    let mut q = port::Entity::find().filter(port::Column::RouterId.eq(router_id));
    if let Some(t) = port_type {
        q = q.filter(port::Column::PortType.eq(t));
    }
    Ok(q.order_by_asc(port::Column::PortId)
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|p| p.port_id)
        .collect())
}

/// The router a port belongs to, and as what.
pub async fn of_port(
    db: &impl ConnectionTrait,
    port_id: &str,
) -> Result<Option<port::Model>, Error> {
    port::Entity::find_by_id(port_id.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// The gateway ports of many routers, by router.
pub async fn gateways(
    db: &impl ConnectionTrait,
    routers: &[String],
) -> Result<Vec<port::Model>, Error> {
    port::Entity::find()
        .filter(port::Column::RouterId.is_in(routers.iter().cloned()))
        .filter(port::Column::PortType.eq(GATEWAY))
        .all(db)
        .await
        .map_err(internal)
}
