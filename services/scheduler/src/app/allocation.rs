//! Allocations: claiming resources for a consumer, all or nothing. A claim
//! reads each provider's generation, inventory and usage, checks every
//! amount (`capacity`), then writes in one transaction that first bumps
//! every touched provider's generation compare-and-set: a concurrent
//! claim on the same provider makes one of them retry on fresh numbers,
//! so two claims can never together over-commit a node.

use std::collections::BTreeMap;
use std::time::Duration;

use virga_common::Error;
use virga_db::sea_orm::TransactionTrait;
use virga_service::ServiceContext;

use super::capacity;
use super::inventory::Inventory;
use crate::db::{allocation as db, inventory, now, provider};

/// Provider uuid → class → amount.
pub type Wanted = BTreeMap<String, BTreeMap<String, i64>>;

/// Retries of a claim that lost a race before it answers 409.
const TRIES: u32 = 10;

enum Attempt {
    Done,
    Raced,
}

/// Replaces the consumer's allocations with `wanted` (empty: removes them).
pub async fn set(ctx: &ServiceContext, consumer: &str, wanted: &Wanted) -> Result<(), Error> {
    for n in 0..TRIES {
        if let Attempt::Done = attempt(ctx, consumer, wanted).await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5 << n.min(5))).await;
    }
    Err(Error::Conflict(format!(
        "placement.concurrent_update: allocations for consumer {consumer} kept losing to concurrent changes; retry."
    )))
}

async fn attempt(ctx: &ServiceContext, consumer: &str, wanted: &Wanted) -> Result<Attempt, Error> {
    let db = ctx.db();
    let old = db::of_consumer(db, consumer).await?;
    let mut touched: Vec<String> = wanted.keys().cloned().collect();
    touched.extend(old.iter().map(|a| a.provider_uuid.clone()));
    touched.sort();
    touched.dedup();
    let mut seen = Vec::new();
    for p in &touched {
        let Some(prov) = provider::find(db, p).await? else {
            return Err(Error::BadRequest(format!(
                "Allocation for resource provider '{p}' that does not exist."
            )));
        };
        seen.push((p.clone(), prov.generation));
        let Some(amounts) = wanted.get(p) else {
            continue;
        };
        let invs: BTreeMap<String, Inventory> = inventory::of(db, p)
            .await?
            .iter()
            .map(|m| (m.resource_class.clone(), Inventory::of(m)))
            .collect();
        let mut used = db::usage(db, p).await?;
        for a in old.iter().filter(|a| a.provider_uuid == *p) {
            *used.entry(a.resource_class.clone()).or_insert(0) -= a.used;
        }
        for (class, amount) in amounts {
            let inv = invs.get(class).ok_or_else(|| {
                Error::Conflict(format!(
                    "Unable to allocate inventory: Inventory for '{class}' on resource provider '{p}' invalid."
                ))
            })?;
            let now_used = used.get(class).copied().unwrap_or(0);
            capacity::check(class, p, inv, now_used, *amount).map_err(Error::Conflict)?;
        }
    }
    let rows = wanted
        .iter()
        .flat_map(|(p, amounts)| {
            amounts.iter().map(move |(class, used)| db::Model {
                consumer_id: consumer.to_owned(),
                provider_uuid: p.clone(),
                resource_class: class.clone(),
                used: *used,
                created_at: now(),
            })
        })
        .collect();
    let txn = db.begin().await.map_err(Error::internal)?;
    for (p, g) in &seen {
        if !provider::bump(&txn, p, *g).await? {
            return Ok(Attempt::Raced);
        }
    }
    db::replace(&txn, consumer, rows).await?;
    txn.commit().await.map_err(Error::internal)?;
    Ok(Attempt::Done)
}

/// A consumer's allocations by provider, with each provider's generation.
pub async fn of_consumer(
    ctx: &ServiceContext,
    consumer: &str,
) -> Result<BTreeMap<String, (i64, BTreeMap<String, i64>)>, Error> {
    let mut out: BTreeMap<String, (i64, BTreeMap<String, i64>)> = BTreeMap::new();
    for a in db::of_consumer(ctx.db(), consumer).await? {
        if !out.contains_key(&a.provider_uuid) {
            let g = provider::find(ctx.db(), &a.provider_uuid)
                .await?
                .map_or(0, |p| p.generation);
            out.insert(a.provider_uuid.clone(), (g, BTreeMap::new()));
        }
        if let Some((_, r)) = out.get_mut(&a.provider_uuid) {
            r.insert(a.resource_class, a.used);
        }
    }
    Ok(out)
}

/// Removes a consumer's allocations; 404 when it has none.
pub async fn delete(ctx: &ServiceContext, consumer: &str) -> Result<(), Error> {
    if db::of_consumer(ctx.db(), consumer).await?.is_empty() {
        return Err(Error::NotFound {
            kind: "allocations",
            id: format!("for consumer {consumer}"),
        });
    }
    set(ctx, consumer, &Wanted::new()).await
}

/// A provider's allocations by consumer, and its generation.
pub async fn of_provider(
    ctx: &ServiceContext,
    uuid: &str,
) -> Result<(BTreeMap<String, BTreeMap<String, i64>>, i64), Error> {
    let p = super::resource_provider::get(ctx, uuid).await?;
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for a in db::of_provider(ctx.db(), uuid).await? {
        out.entry(a.consumer_id)
            .or_default()
            .insert(a.resource_class, a.used);
    }
    Ok((out, p.generation))
}

/// What is used of each class the provider has inventory of (0 when
/// nothing is), and its generation.
pub async fn usages(
    ctx: &ServiceContext,
    uuid: &str,
) -> Result<(BTreeMap<String, i64>, i64), Error> {
    let p = super::resource_provider::get(ctx, uuid).await?;
    let mut out: BTreeMap<String, i64> = inventory::of(ctx.db(), uuid)
        .await?
        .into_iter()
        .map(|i| (i.resource_class, 0))
        .collect();
    for (class, used) in db::usage(ctx.db(), uuid).await? {
        out.insert(class, used);
    }
    Ok((out, p.generation))
}
