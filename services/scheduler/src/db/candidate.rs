//! The set-based reads behind allocation candidates: one query per
//! requested class finds every inventory that could take the amount, and
//! one query per kind of fact (usage, traits, aggregates, tree) loads it
//! for all those providers at once, never one provider at a time.

use std::collections::{BTreeMap, BTreeSet};

use virga_common::Error;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::{Expr, ExprTrait};
use virga_db::sea_orm::{QueryOrder, QuerySelect};

use super::{aggregate, allocation, internal, inventory, provider, provider_trait};

/// Inventories of `class` whose unit rules admit `amount`, each with what
/// is used of it.
pub async fn fitting(
    db: &impl ConnectionTrait,
    class: &str,
    amount: i64,
) -> Result<Vec<(inventory::Model, i64)>, Error> {
    let invs = inventory::Entity::find()
        .filter(inventory::Column::ResourceClass.eq(class))
        .filter(inventory::Column::MinUnit.lte(amount))
        .filter(inventory::Column::MaxUnit.gte(amount))
        .order_by_asc(inventory::Column::ProviderUuid)
        .all(db)
        .await
        .map_err(internal)?;
    let used: BTreeMap<String, i64> = allocation::Entity::find()
        .select_only()
        .column(allocation::Column::ProviderUuid)
        // PostgreSQL's SUM of a bigint is a numeric.
        .column_as(
            Expr::col(allocation::Column::Used).sum().cast_as("bigint"),
            "used",
        )
        .filter(allocation::Column::ResourceClass.eq(class))
        .group_by(allocation::Column::ProviderUuid)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .collect();
    Ok(invs
        .into_iter()
        .map(|i| {
            let u = used.get(&i.provider_uuid).copied().unwrap_or(0);
            (i, u)
        })
        .collect())
}

/// Every inventory of these providers, with what is used of each.
pub async fn inventories(
    db: &impl ConnectionTrait,
    providers: &[String],
) -> Result<Vec<(inventory::Model, i64)>, Error> {
    let invs = inventory::Entity::find()
        .filter(inventory::Column::ProviderUuid.is_in(providers.iter().map(String::as_str)))
        .order_by_asc(inventory::Column::ProviderUuid)
        .order_by_asc(inventory::Column::ResourceClass)
        .all(db)
        .await
        .map_err(internal)?;
    let used: BTreeMap<(String, String), i64> = allocation::Entity::find()
        .select_only()
        .column(allocation::Column::ProviderUuid)
        .column(allocation::Column::ResourceClass)
        .column_as(
            Expr::col(allocation::Column::Used).sum().cast_as("bigint"),
            "used",
        )
        .filter(allocation::Column::ProviderUuid.is_in(providers.iter().map(String::as_str)))
        .group_by(allocation::Column::ProviderUuid)
        .group_by(allocation::Column::ResourceClass)
        .into_tuple::<(String, String, i64)>()
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|(p, c, n)| ((p, c), n))
        .collect();
    Ok(invs
        .into_iter()
        .map(|i| {
            let key = (i.provider_uuid.clone(), i.resource_class.clone());
            let u = used.get(&key).copied().unwrap_or(0);
            (i, u)
        })
        .collect())
}

/// Each provider's traits.
pub async fn traits(
    db: &impl ConnectionTrait,
    providers: &[String],
) -> Result<BTreeMap<String, BTreeSet<String>>, Error> {
    let rows = provider_trait::Entity::find()
        .filter(provider_trait::Column::ProviderUuid.is_in(providers.iter().map(String::as_str)))
        .all(db)
        .await
        .map_err(internal)?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in rows {
        out.entry(r.provider_uuid).or_default().insert(r.trait_name);
    }
    Ok(out)
}

/// Each provider's aggregates.
pub async fn aggregates(
    db: &impl ConnectionTrait,
    providers: &[String],
) -> Result<BTreeMap<String, BTreeSet<String>>, Error> {
    let rows = aggregate::Entity::find()
        .filter(aggregate::Column::ProviderUuid.is_in(providers.iter().map(String::as_str)))
        .all(db)
        .await
        .map_err(internal)?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in rows {
        out.entry(r.provider_uuid)
            .or_default()
            .insert(r.aggregate_uuid);
    }
    Ok(out)
}

/// These providers.
pub async fn providers(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<Vec<provider::Model>, Error> {
    provider::Entity::find()
        .filter(provider::Column::Uuid.is_in(uuids.iter().map(String::as_str)))
        .all(db)
        .await
        .map_err(internal)
}

/// Every provider in the trees with these roots.
pub async fn trees(
    db: &impl ConnectionTrait,
    roots: &[String],
) -> Result<Vec<provider::Model>, Error> {
    provider::Entity::find()
        .filter(provider::Column::RootUuid.is_in(roots.iter().map(String::as_str)))
        .order_by_asc(provider::Column::Uuid)
        .all(db)
        .await
        .map_err(internal)
}
