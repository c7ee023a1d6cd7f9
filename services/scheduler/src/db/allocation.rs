//! Allocations: `allocation`, one row per consumer, provider and class.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "allocation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub consumer_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_uuid: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_class: String,
    pub used: i64,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn of_consumer(db: &impl ConnectionTrait, consumer: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::ConsumerId.eq(consumer))
        .order_by_asc(Column::ProviderUuid)
        .order_by_asc(Column::ResourceClass)
        .all(db)
        .await
        .map_err(internal)
}

pub async fn of_provider(db: &impl ConnectionTrait, provider: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::ProviderUuid.eq(provider))
        .order_by_asc(Column::ConsumerId)
        .order_by_asc(Column::ResourceClass)
        .all(db)
        .await
        .map_err(internal)
}

/// What is allocated of each class of a provider.
pub async fn usage(
    db: &impl ConnectionTrait,
    provider: &str,
) -> Result<BTreeMap<String, i64>, Error> {
    let mut out = BTreeMap::new();
    for a in of_provider(db, provider).await? {
        *out.entry(a.resource_class).or_insert(0) += a.used;
    }
    Ok(out)
}

/// Replaces a consumer's allocations with `rows` (`had`: whether it
/// may have any now).
pub async fn replace(
    db: &impl ConnectionTrait,
    consumer: &str,
    had: bool,
    rows: Vec<Model>,
) -> Result<(), Error> {
    if had {
        Entity::delete_many()
            .filter(Column::ConsumerId.eq(consumer))
            .exec(db)
            .await
            .map_err(internal)?;
    }
    let rows = rows.into_iter().map(IntoActiveModel::into_active_model);
    super::insert_all(db, rows.collect()).await
}
