//! The set-based reads behind allocation candidates: one query per
//! requested class finds every inventory that could take the amount, and
//! one query per kind of fact (traits, aggregates, tree) loads it
//! for all those providers at once, never one provider at a time.

use std::collections::{BTreeMap, BTreeSet};

use virga_common::Error;
use virga_db::sea_orm::QueryOrder;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::{Expr, ExprTrait};

use super::{aggregate, internal, inventory, provider, provider_trait};

/// Inventories of `class` with room for `amount` that their unit rules
/// admit (step size aside).
pub async fn fitting(
    db: &impl ConnectionTrait,
    class: &str,
    amount: i64,
) -> Result<Vec<inventory::Model>, Error> {
    use inventory::Column as C;
    // floor((total - reserved) * ratio) - used >= amount, with integer
    // used + amount: the same as the unfloored product reaching it.
    let room = Expr::col(C::Total)
        .sub(Expr::col(C::Reserved))
        .mul(Expr::col(C::AllocationRatio))
        .gte(Expr::col(C::Used).add(amount));
    inventory::Entity::find()
        .filter(C::ResourceClass.eq(class))
        .filter(C::MinUnit.lte(amount))
        .filter(C::MaxUnit.gte(amount))
        .filter(room)
        .all(db)
        .await
        .map_err(internal)
}

/// Every inventory of these providers.
pub async fn inventories(
    db: &impl ConnectionTrait,
    providers: &[String],
) -> Result<Vec<inventory::Model>, Error> {
    inventory::Entity::find()
        .filter(inventory::Column::ProviderUuid.is_in(providers.iter().map(String::as_str)))
        .order_by_asc(inventory::Column::ProviderUuid)
        .order_by_asc(inventory::Column::ResourceClass)
        .all(db)
        .await
        .map_err(internal)
}

/// (provider, member) pairs grouped by provider.
fn group(pairs: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (p, m) in pairs {
        out.entry(p).or_default().insert(m);
    }
    out
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
    Ok(group(
        rows.into_iter().map(|r| (r.provider_uuid, r.trait_name)),
    ))
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
    Ok(group(
        rows.into_iter()
            .map(|r| (r.provider_uuid, r.aggregate_uuid)),
    ))
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

/// Which of these providers share their resources with their aggregates'
/// trees (the `MISC_SHARES_VIA_AGGREGATE` trait). A cloud has few, so
/// all are read and the list is not sent (it may be every node).
pub async fn sharing(
    db: &impl ConnectionTrait,
    providers: &BTreeSet<&str>,
) -> Result<Vec<String>, Error> {
    let rows = provider_trait::Entity::find()
        .filter(provider_trait::Column::TraitName.eq(SHARES))
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows
        .into_iter()
        .map(|r| r.provider_uuid)
        .filter(|p| providers.contains(p.as_str()))
        .collect())
}

/// The trait that makes a provider's inventory usable by every tree of
/// its aggregates (shared storage, a site's IP pool).
pub const SHARES: &str = "MISC_SHARES_VIA_AGGREGATE";

/// For each sharing provider, the roots of every provider in any of its
/// aggregates: the trees it serves.
pub async fn anchors(
    db: &impl ConnectionTrait,
    sharing: &[String],
) -> Result<BTreeMap<String, BTreeSet<String>>, Error> {
    let mine = aggregates(db, sharing).await?;
    let aggs: BTreeSet<&String> = mine.values().flatten().collect();
    let members = aggregate::Entity::find()
        .filter(aggregate::Column::AggregateUuid.is_in(aggs.iter().map(|a| a.as_str())))
        .all(db)
        .await
        .map_err(internal)?;
    let uuids: Vec<String> = members.iter().map(|m| m.provider_uuid.clone()).collect();
    let roots: BTreeMap<String, String> = providers(db, &uuids)
        .await?
        .into_iter()
        .map(|p| (p.uuid, p.root_uuid))
        .collect();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (s, its) in &mine {
        let served = members
            .iter()
            .filter(|m| its.contains(&m.aggregate_uuid))
            .filter_map(|m| roots.get(&m.provider_uuid).cloned());
        out.entry(s.clone()).or_default().extend(served);
    }
    Ok(out)
}
