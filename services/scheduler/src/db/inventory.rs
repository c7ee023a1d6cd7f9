//! Inventories: `inventory`, one row per provider and resource class.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder};

use super::internal;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "inventory")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_uuid: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_class: String,
    pub total: i64,
    pub reserved: i64,
    pub min_unit: i64,
    pub max_unit: i64,
    pub step_size: i64,
    pub allocation_ratio: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn of(db: &impl ConnectionTrait, provider: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::ProviderUuid.eq(provider))
        .order_by_asc(Column::ResourceClass)
        .all(db)
        .await
        .map_err(internal)
}

/// Replaces every inventory of a provider with `rows`.
pub async fn replace(
    db: &impl ConnectionTrait,
    provider: &str,
    rows: Vec<Model>,
) -> Result<(), Error> {
    Entity::delete_many()
        .filter(Column::ProviderUuid.eq(provider))
        .exec(db)
        .await
        .map_err(internal)?;
    for r in rows {
        r.into_active_model().insert(db).await.map_err(internal)?;
    }
    Ok(())
}

/// Whether any provider has inventory of this class.
pub async fn uses_class(db: &impl ConnectionTrait, class: &str) -> Result<bool, Error> {
    let n = Entity::find()
        .filter(Column::ResourceClass.eq(class))
        .count(db)
        .await
        .map_err(internal)?;
    Ok(n > 0)
}
