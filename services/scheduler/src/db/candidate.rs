//! The set-based reads behind allocation candidates: one query per
//! requested class finds every inventory that could take the amount, and
//! one query per kind of fact (usage, traits, aggregates, tree) loads it
//! for all those providers at once, never one provider at a time.

use std::collections::{BTreeMap, BTreeSet};

use virga_common::Error;
use virga_db::sea_orm::QueryOrder;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::{Expr, ExprTrait};

use super::{aggregate, internal, inventory, provider, provider_trait};

/// Inventories of `class` with room for `amount` that their unit rules
/// admit (step size aside), each with what is used of it.
pub async fn fitting(
    db: &impl ConnectionTrait,
    class: &str,
    amount: i64,
) -> Result<Vec<(inventory::Model, i64)>, Error> {
    use inventory::Column as C;
    // floor((total - reserved) * ratio) - used >= amount, with integer
    // used + amount: the same as the unfloored product reaching it.
    let room = Expr::col(C::Total)
        .sub(Expr::col(C::Reserved))
        .mul(Expr::col(C::AllocationRatio))
        .gte(Expr::col(C::Used).add(amount));
    let invs = inventory::Entity::find()
        .filter(C::ResourceClass.eq(class))
        .filter(C::MinUnit.lte(amount))
        .filter(C::MaxUnit.gte(amount))
        .filter(room)
        .all(db)
        .await
        .map_err(internal)?;
    Ok(invs
        .into_iter()
        .map(|i| {
            let u = i.used;
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
    Ok(invs
        .into_iter()
        .map(|i| {
            let u = i.used;
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
