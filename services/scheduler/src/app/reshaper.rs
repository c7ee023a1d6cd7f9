//! The reshaper (`POST /reshaper`, 1.30): replaces some providers'
//! inventories and some consumers' allocations in one transaction, so
//! inventory can move (from a node to a new child device, say) together
//! with what is allocated of it, with no moment where either is wrong.
//! Each provider's inventories change compare-and-set on the generation
//! the caller saw, each consumer's allocations on its consumer generation;
//! the result is checked before it commits: no allocation left on a class
//! a provider no longer has, and every new allocation within its
//! inventory's units and capacity.

use std::collections::{BTreeMap, BTreeSet};

use virga_common::Error;
use virga_db::sea_orm::DatabaseTransaction;
use virga_service::ServiceContext;

use super::allocation::Claim;
use super::capacity;
use super::inventory::Inventory;
use crate::db::{allocation, consumer, inventory, provider};

/// What to reshape.
#[derive(Debug, Clone, Default)]
pub struct Reshape {
    /// Provider → (the generation the caller saw, its new inventories).
    pub inventories: BTreeMap<String, (i64, BTreeMap<String, Inventory>)>,
    /// Consumers' new allocations (empty: none), generations checked.
    pub claims: Vec<Claim>,
}

fn conflict(message: String) -> Error {
    Error::CodedConflict {
        code: "placement.concurrent_update",
        message,
    }
}

fn no_provider(uuid: &str) -> Error {
    Error::BadRequest(format!("Resource provider {uuid} not found."))
}

pub async fn reshape(ctx: &ServiceContext, r: &Reshape) -> Result<(), Error> {
    for invs in r.inventories.values().map(|(_, i)| i) {
        for (class, inv) in invs {
            if !super::resource_class::exists(ctx, class).await? {
                return Err(Error::BadRequest(format!(
                    "No such resource class {class}."
                )));
            }
            inv.check(class)?;
        }
    }
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    for (uuid, (seen, invs)) in &r.inventories {
        let p = provider::find(&txn, uuid)
            .await?
            .ok_or_else(|| no_provider(uuid))?;
        if p.generation != *seen || !provider::bump(&txn, uuid, *seen).await? {
            return Err(conflict(format!(
                "resource provider generation conflict (actual: {}, given: {seen})",
                p.generation
            )));
        }
        let rows = invs.iter().map(|(c, i)| i.row(uuid, c)).collect();
        inventory::replace(&txn, uuid, rows).await?;
    }
    let mut touched: BTreeSet<String> = r.inventories.keys().cloned().collect();
    for c in &r.claims {
        touched.extend(replace_allocations(&txn, c).await?);
    }
    let touched: Vec<String> = touched.into_iter().collect();
    inventory::recount(&txn, &touched).await?;
    for p in &touched {
        check(&txn, p, r).await?;
        if !r.inventories.contains_key(p) {
            let g = provider::find(&txn, p)
                .await?
                .ok_or_else(|| no_provider(p))?
                .generation;
            if !provider::bump(&txn, p, g).await? {
                return Err(conflict(format!(
                    "resource provider {p} changed concurrently; retry."
                )));
            }
        }
    }
    txn.commit().await.map_err(Error::internal)?;
    super::select::cache::changed(ctx);
    tracing::info!(
        providers = r.inventories.len(),
        consumers = r.claims.len(),
        "reshaped"
    );
    Ok(())
}

/// Replaces one consumer's allocations; the providers it had or has.
async fn replace_allocations(
    txn: &DatabaseTransaction,
    c: &Claim,
) -> Result<BTreeSet<String>, Error> {
    let row = consumer::find(txn, &c.consumer).await?;
    let actual = row.as_ref().map(|r| r.generation);
    if let Some(expected) = c.seen
        && expected != actual
    {
        let show = |g: Option<i64>| g.map_or("null".into(), |g| g.to_string());
        return Err(conflict(format!(
            "consumer generation conflict - expected {} but got {} (consumer {})",
            show(expected),
            show(actual),
            c.consumer
        )));
    }
    let mut providers: BTreeSet<String> = c.wanted.keys().cloned().collect();
    if row.is_some() {
        let old = allocation::of_consumer(txn, &c.consumer).await?;
        providers.extend(old.into_iter().map(|a| a.provider_uuid));
    }
    for p in c.wanted.keys() {
        if provider::find(txn, p).await?.is_none() {
            return Err(no_provider(p));
        }
    }
    if !super::allocation::write(txn, c, row.as_ref()).await? {
        return Err(conflict(format!(
            "consumer {} changed concurrently; retry.",
            c.consumer
        )));
    }
    Ok(providers)
}

/// What the reshape leaves on provider `p` must hold.
async fn check(txn: &DatabaseTransaction, p: &str, r: &Reshape) -> Result<(), Error> {
    let invs: BTreeMap<String, (Inventory, i64)> = inventory::of(txn, p)
        .await?
        .iter()
        .map(|m| (m.resource_class.clone(), (Inventory::of(m), m.used)))
        .collect();
    for (class, n) in allocation::usage(txn, p).await? {
        if n > 0 && !invs.contains_key(&class) {
            return Err(if r.inventories.contains_key(p) {
                Error::CodedConflict {
                    code: "placement.inventory.inuse",
                    message: format!("Inventory for {class} on resource provider {p} in use."),
                }
            } else {
                Error::Conflict(format!(
                    "Unable to allocate inventory: Inventory for '{class}' on resource provider '{p}' invalid."
                ))
            });
        }
    }
    let new = r.claims.iter().filter_map(|c| c.wanted.get(p)).flatten();
    for (class, amount) in new {
        let Some((inv, used)) = invs.get(class) else {
            continue; // cannot be: allocated classes were checked above
        };
        capacity::check(class, p, inv, used - amount, *amount).map_err(Error::Conflict)?;
    }
    Ok(())
}
