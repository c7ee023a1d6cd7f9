//! Protocols: how an identity provider's users log in (`openid`), and the
//! mapping applied to what it asserts.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryOrder};

use crate::db::{internal, store_err};

const KIND: &str = "protocol";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federation_protocol")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub idp_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub mapping_id: String,
    pub remote_id_attribute: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn create(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model()
        .insert(db)
        .await
        .map_err(store_err(KIND))
}

pub async fn get(db: &impl ConnectionTrait, idp_id: &str, id: &str) -> Result<Model, Error> {
    Entity::find_by_id((idp_id.to_string(), id.to_string()))
        .one(db)
        .await
        .map_err(internal)?
        .ok_or_else(|| Error::not_found("Could not find federated protocol", id))
}

pub async fn list(db: &impl ConnectionTrait, idp_id: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::IdpId.eq(idp_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await
        .map_err(internal)
}

pub async fn update(
    db: &impl ConnectionTrait,
    idp_id: &str,
    id: &str,
    mapping_id: Option<String>,
    remote_id_attribute: Option<Option<String>>,
) -> Result<Model, Error> {
    let mut am = get(db, idp_id, id).await?.into_active_model();
    if let Some(m) = mapping_id {
        am.mapping_id = Set(m);
    }
    if let Some(r) = remote_id_attribute {
        am.remote_id_attribute = Set(r);
    }
    am.update(db).await.map_err(store_err(KIND))
}

pub async fn delete(db: &impl ConnectionTrait, idp_id: &str, id: &str) -> Result<(), Error> {
    get(db, idp_id, id).await?;
    Entity::delete_by_id((idp_id.to_string(), id.to_string()))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
