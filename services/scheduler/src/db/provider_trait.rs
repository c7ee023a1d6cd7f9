//! Which traits each provider has: `provider_trait`.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_trait")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_uuid: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub trait_name: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn of(db: &impl ConnectionTrait, provider: &str) -> Result<Vec<String>, Error> {
    let rows = Entity::find()
        .filter(Column::ProviderUuid.eq(provider))
        .order_by_asc(Column::TraitName)
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|r| r.trait_name).collect())
}

/// Every provider's traits (the scheduler's host cache loads them all).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>, Error> {
    Entity::find().all(db).await.map_err(internal)
}

pub async fn replace(
    db: &impl ConnectionTrait,
    provider: &str,
    traits: &[String],
) -> Result<(), Error> {
    Entity::delete_many()
        .filter(Column::ProviderUuid.eq(provider))
        .exec(db)
        .await
        .map_err(internal)?;
    if traits.is_empty() {
        return Ok(());
    }
    let rows = traits.iter().map(|t| ActiveModel {
        provider_uuid: Set(provider.to_owned()),
        trait_name: Set(t.clone()),
    });
    Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Every trait at least one provider has.
pub async fn associated(db: &impl ConnectionTrait) -> Result<Vec<String>, Error> {
    let names: Vec<String> = Entity::find()
        .select_only()
        .column(Column::TraitName)
        .distinct()
        .order_by_asc(Column::TraitName)
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)?;
    Ok(names)
}

pub async fn in_use(db: &impl ConnectionTrait, name: &str) -> Result<bool, Error> {
    let n = Entity::find()
        .filter(Column::TraitName.eq(name))
        .count(db)
        .await
        .map_err(internal)?;
    Ok(n > 0)
}
