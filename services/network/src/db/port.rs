//! Ports: a network's attachment points, with their MAC (unique per
//! network), binding and security settings. Their addresses are in
//! `ip_allocation`.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::OnConflict;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder, QuerySelect};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "port")]
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
    pub mac_address: String,
    pub admin_state_up: bool,
    pub status: String,
    pub device_id: String,
    pub device_owner: String,
    pub port_security_enabled: bool,
    pub binding_host_id: String,
    pub binding_vnic_type: String,
    pub binding_profile: String,
    pub allowed_address_pairs: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What inserting a port came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Yes,
    /// Another port of the network has the MAC.
    MacTaken,
    /// The network was deleted meanwhile.
    NoNetwork,
}

/// Inserts it. A taken MAC does not fail the statement (so the caller's
/// transaction can try another), it inserts nothing.
pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Inserted, Error> {
    let r = Entity::insert(m.into_active_model())
        .on_conflict(
            OnConflict::columns([Column::NetworkId, Column::MacAddress])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await;
    match r {
        Ok(1) => Ok(Inserted::Yes),
        Ok(_) => Ok(Inserted::MacTaken),
        Err(e) if super::is_fk_violation(&e) => Ok(Inserted::NoNetwork),
        Err(e) => Err(internal(e)),
    }
}

/// The projects with ports on the network.
pub async fn projects_on(
    db: &impl ConnectionTrait,
    network_id: &str,
) -> Result<Vec<String>, Error> {
    Entity::find()
        .select_only()
        .column(Column::ProjectId)
        .filter(Column::NetworkId.eq(network_id))
        .distinct()
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<Model>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .filter(Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await
        .map_err(internal)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// The ids of the network's ports (the first hundred: enough to name).
pub async fn ids_on_network(
    db: &impl ConnectionTrait,
    network_id: &str,
) -> Result<Vec<String>, Error> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::NetworkId.eq(network_id))
        .order_by_asc(Column::Id)
        .limit(100)
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)
}

/// Writes the row as given; `Ok(false)` when the new MAC is taken.
pub async fn update(db: &impl ConnectionTrait, m: Model) -> Result<bool, Error> {
    let am = m.into_active_model().reset_all();
    match am.update(db).await {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(internal(e)),
    }
}

/// Deletes it (its addresses go with it).
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool, Error> {
    let r = Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// The owner of the ports DHCP servers answer from (one per network and
/// node, made by the plan sync).
pub const DHCP_OWNER: &str = "network:dhcp";

/// Deletes the network's DHCP ports (those holding an address on
/// `subnet_id`, when given); the plan sync makes them again as needed.
pub async fn delete_dhcp(
    db: &impl ConnectionTrait,
    network_id: &str,
    subnet_id: Option<&str>,
) -> Result<(), Error> {
    let mut ids: Vec<String> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::NetworkId.eq(network_id))
        .filter(Column::DeviceOwner.eq(DHCP_OWNER))
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)?;
    if let Some(sid) = subnet_id {
        let held = super::ip_allocation::of_ports(db, &ids).await?;
        ids.retain(|id| {
            held.get(id)
                .is_some_and(|a| a.iter().any(|a| a.subnet_id == sid))
        });
    }
    if !ids.is_empty() {
        Entity::delete_many()
            .filter(Column::Id.is_in(ids))
            .exec(db)
            .await
            .map_err(internal)?;
    }
    Ok(())
}
