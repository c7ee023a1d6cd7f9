//! Aggregates: `provider_aggregate`, which providers are in which
//! aggregate (a group configured at once: a site, a rack, a GPU pool).

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, QueryOrder};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_aggregate")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_uuid: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub aggregate_uuid: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn of(db: &impl ConnectionTrait, provider: &str) -> Result<Vec<String>, Error> {
    let rows = Entity::find()
        .filter(Column::ProviderUuid.eq(provider))
        .order_by_asc(Column::AggregateUuid)
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|r| r.aggregate_uuid).collect())
}

pub async fn replace(
    db: &impl ConnectionTrait,
    provider: &str,
    aggs: &[String],
) -> Result<(), Error> {
    Entity::delete_many()
        .filter(Column::ProviderUuid.eq(provider))
        .exec(db)
        .await
        .map_err(internal)?;
    for a in aggs {
        let row = ActiveModel {
            provider_uuid: Set(provider.to_owned()),
            aggregate_uuid: Set(a.clone()),
        };
        Entity::insert(row).exec(db).await.map_err(internal)?;
    }
    Ok(())
}

/// Providers in any of `aggs`.
pub async fn members(db: &impl ConnectionTrait, aggs: &[String]) -> Result<Vec<String>, Error> {
    let rows = Entity::find()
        .filter(Column::AggregateUuid.is_in(aggs.iter().map(String::as_str)))
        .all(db)
        .await
        .map_err(internal)?;
    let mut out: Vec<String> = rows.into_iter().map(|r| r.provider_uuid).collect();
    out.sort();
    out.dedup();
    Ok(out)
}
