//! Networks: one row each, with its segment (type, physical network, id)
//! unique across the cloud.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::OnConflict;
use virga_db::sea_orm::{IntoActiveModel, QuerySelect};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "network")]
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
    pub shared: bool,
    pub external: bool,
    pub mtu: i32,
    pub port_security_enabled: bool,
    pub network_type: String,
    pub physical_network: String,
    pub segmentation_id: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Inserts it; `Ok(false)` when its segment is taken (which inserts
/// nothing and fails no statement, so the transaction lives on).
pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<bool, Error> {
    let n = Entity::insert(m.into_active_model())
        .on_conflict(
            OnConflict::columns([
                Column::NetworkType,
                Column::PhysicalNetwork,
                Column::SegmentationId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(internal)?;
    Ok(n == 1)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// The segmentation ids of `network_type` on `physical_network` in
/// `[lo, hi]` that networks hold, ascending.
pub async fn taken_segments(
    db: &impl ConnectionTrait,
    network_type: &str,
    physical_network: &str,
    lo: i32,
    hi: i32,
) -> Result<Vec<i32>, Error> {
    Entity::find()
        .select_only()
        .column(Column::SegmentationId)
        .filter(Column::NetworkType.eq(network_type))
        .filter(Column::PhysicalNetwork.eq(physical_network))
        .filter(Column::SegmentationId.between(lo, hi))
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)
}

/// Writes the row as given (the caller bumped revision and time).
pub async fn update(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    let am = m.into_active_model().reset_all();
    am.update(db).await.map_err(internal)
}

/// Deletes it; `Ok(false)` when a row made meanwhile (a port) still
/// refers to it.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool, Error> {
    match Entity::delete_by_id(id.to_owned()).exec(db).await {
        Ok(_) => Ok(true),
        Err(e) if super::is_fk_violation(&e) => Ok(false),
        Err(e) => Err(internal(e)),
    }
}

/// Bumps the revision (a subnet came or went), making the transaction
/// the network's only writer (see `super::touch`).
pub async fn touch(db: &impl ConnectionTrait, id: &str) -> Result<bool, Error> {
    super::touch::<Entity>(
        db,
        (Column::Id, id),
        Column::RevisionNumber,
        Column::UpdatedAt,
    )
    .await
}

/// The ids of the networks matching `c`.
pub async fn ids_where(
    db: &impl ConnectionTrait,
    c: virga_db::sea_orm::Condition,
) -> Result<Vec<String>, Error> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(c)
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)
}

pub async fn ids_of_project(
    db: &impl ConnectionTrait,
    project: &str,
) -> Result<Vec<String>, Error> {
    ids_where(
        db,
        virga_db::sea_orm::Condition::all().add(Column::ProjectId.eq(project)),
    )
    .await
}
