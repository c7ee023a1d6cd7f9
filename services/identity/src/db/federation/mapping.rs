//! Mappings: rules turning an identity provider's claims into a user and
//! groups. Stored as the JSON the caller gave (validated by the app layer).

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel};

use crate::db::{delete_err, must_find, paginate, store_err};

const KIND: &str = "mapping";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federation_mapping")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The rules array, as JSON text.
    pub rules: String,
    pub schema_version: String,
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

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Model, Error> {
    must_find::<Entity, _>(db, KIND, id).await
}

pub async fn list(db: &impl ConnectionTrait, page: &PageRequest) -> Result<Page<Model>, Error> {
    paginate(db, Entity::find(), Column::Id, page, |m| m.id.clone()).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    rules: String,
    schema_version: Option<String>,
) -> Result<Model, Error> {
    let mut am = get(db, id).await?.into_active_model();
    am.rules = Set(rules);
    if let Some(v) = schema_version {
        am.schema_version = Set(v);
    }
    am.update(db).await.map_err(store_err(KIND))
}

/// A mapping a protocol still uses is a conflict (the foreign key restricts).
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    get(db, id).await?;
    Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(delete_err(KIND))?;
    Ok(())
}
