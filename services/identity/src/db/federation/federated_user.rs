//! The link from an identity provider's user (its unique id there, under
//! one protocol) to the local shadow user that holds its roles.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel};

use crate::db::{internal, store_err};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federated_user")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub idp_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub protocol_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unique_id: String,
    pub user_id: String,
    pub display_name: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn find(
    db: &impl ConnectionTrait,
    idp_id: &str,
    protocol_id: &str,
    unique_id: &str,
) -> Result<Option<Model>, Error> {
    Entity::find_by_id((
        idp_id.to_string(),
        protocol_id.to_string(),
        unique_id.to_string(),
    ))
    .one(db)
    .await
    .map_err(internal)
}

/// Links a shadow user; a concurrent first login of the same remote user
/// loses the race with a conflict.
pub async fn create(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model()
        .insert(db)
        .await
        .map_err(store_err("federated user"))
}

pub async fn set_display_name(
    db: &impl ConnectionTrait,
    m: Model,
    display_name: Option<String>,
) -> Result<Model, Error> {
    if m.display_name == display_name {
        return Ok(m);
    }
    let mut am = m.into_active_model();
    am.display_name = Set(display_name);
    am.update(db).await.map_err(internal)
}

/// Every link of a user: Keystone's `federated` attribute of a user.
pub async fn of_user(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::UserId.eq(user_id))
        .all(db)
        .await
        .map_err(internal)
}

/// The shadow users of an identity provider.
pub async fn user_ids_of_idp(
    db: &impl ConnectionTrait,
    idp_id: &str,
) -> Result<Vec<String>, Error> {
    user_ids(db, Entity::find().filter(Column::IdpId.eq(idp_id))).await
}

/// The shadow users that logged in through one protocol of a provider.
pub async fn user_ids_of_protocol(
    db: &impl ConnectionTrait,
    idp_id: &str,
    protocol_id: &str,
) -> Result<Vec<String>, Error> {
    let q = Entity::find()
        .filter(Column::IdpId.eq(idp_id))
        .filter(Column::ProtocolId.eq(protocol_id));
    user_ids(db, q).await
}

async fn user_ids(db: &impl ConnectionTrait, q: Select<Entity>) -> Result<Vec<String>, Error> {
    let rows = q.all(db).await.map_err(internal)?;
    let mut ids: Vec<String> = rows.into_iter().map(|m| m.user_id).collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}
