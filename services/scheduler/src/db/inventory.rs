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
    /// What is allocated of it (`recount` keeps it true).
    pub used: i64,
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

/// Every inventory (the scheduler's host cache loads them all).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>, Error> {
    Entity::find().all(db).await.map_err(internal)
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
    recount(db, &[provider.to_owned()]).await
}

/// Sets `used` of these providers' inventories to what their allocations
/// sum to; run in the transaction that changed them.
pub async fn recount(db: &impl ConnectionTrait, providers: &[String]) -> Result<(), Error> {
    use super::allocation as a;
    use virga_db::sea_orm::sea_query::{
        Expr, ExprTrait, Func, Query, QueryStatementBuilder, SimpleExpr,
    };
    let sum = Query::select()
        .expr(Expr::col((a::Entity, a::Column::Used)).sum())
        .from(a::Entity)
        .and_where(
            Expr::col((a::Entity, a::Column::ProviderUuid)).equals((Entity, Column::ProviderUuid)),
        )
        .and_where(
            Expr::col((a::Entity, a::Column::ResourceClass))
                .equals((Entity, Column::ResourceClass)),
        )
        .to_owned();
    let used = Func::coalesce([
        SimpleExpr::SubQuery(None, Box::new(sum.into_sub_query_statement())),
        Expr::val(0),
    ]);
    Entity::update_many()
        .col_expr(Column::Used, used.into())
        .filter(Column::ProviderUuid.is_in(providers.iter().map(String::as_str)))
        .exec(db)
        .await
        .map_err(internal)?;
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
