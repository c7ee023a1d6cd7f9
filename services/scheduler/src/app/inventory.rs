//! Inventories: how much of each resource class a provider has, and the
//! rules a claim on it must follow (`reserved`, `min_unit`, `max_unit`,
//! `step_size`, `allocation_ratio`). Every change names the provider
//! generation it was based on and bumps it, in one transaction.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_service::ServiceContext;

use super::{resource_class, resource_provider};
use crate::db::{inventory as db, provider};

pub use crate::db::inventory::Model;

/// Placement's `max_unit` default and every integer field's ceiling.
pub const MAX_INT: i64 = 2_147_483_647;

/// One class's inventory as a caller gives it (defaults filled in).
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    pub total: i64,
    pub reserved: i64,
    pub min_unit: i64,
    pub max_unit: i64,
    pub step_size: i64,
    pub allocation_ratio: f64,
}

impl Inventory {
    /// Checks the fields against each other; the message names the class.
    pub fn check(&self, class: &str) -> Result<(), Error> {
        let bad = |why: String| {
            Err(Error::BadRequest(format!(
                "Unable to update inventory for resource class {class}: {why}"
            )))
        };
        if self.reserved > self.total {
            return bad(format!(
                "reserved {} is greater than total {}",
                self.reserved, self.total
            ));
        }
        if self.min_unit > self.max_unit {
            return bad(format!(
                "min_unit {} is greater than max_unit {}",
                self.min_unit, self.max_unit
            ));
        }
        if self.step_size > self.max_unit {
            return bad(format!(
                "step_size {} is greater than max_unit {}",
                self.step_size, self.max_unit
            ));
        }
        Ok(())
    }

    pub fn row(&self, provider: &str, class: &str) -> Model {
        Model {
            provider_uuid: provider.to_owned(),
            resource_class: class.to_owned(),
            total: self.total,
            reserved: self.reserved,
            min_unit: self.min_unit,
            max_unit: self.max_unit,
            step_size: self.step_size,
            allocation_ratio: self.allocation_ratio,
            used: 0,
        }
    }

    pub fn of(m: &Model) -> Inventory {
        Inventory {
            total: m.total,
            reserved: m.reserved,
            min_unit: m.min_unit,
            max_unit: m.max_unit,
            step_size: m.step_size,
            allocation_ratio: m.allocation_ratio,
        }
    }
}

/// A provider's inventories by class, and its generation.
pub async fn list(
    ctx: &ServiceContext,
    uuid: &str,
) -> Result<(BTreeMap<String, Inventory>, i64), Error> {
    let p = resource_provider::get(ctx, uuid).await?;
    let rows = db::of(ctx.db(), uuid).await?;
    Ok((
        rows.iter()
            .map(|r| (r.resource_class.clone(), Inventory::of(r)))
            .collect(),
        p.generation,
    ))
}

pub async fn get(ctx: &ServiceContext, uuid: &str, class: &str) -> Result<(Inventory, i64), Error> {
    let (mut all, generation) = list(ctx, uuid).await?;
    let inv = all.remove(class).ok_or_else(|| Error::NotFound {
        kind: "inventory",
        id: format!("of resource class {class} for resource provider {uuid}"),
    })?;
    Ok((inv, generation))
}

pub fn generation_conflict(uuid: &str) -> Error {
    Error::CodedConflict {
        code: "placement.concurrent_update",
        message: format!(
            "resource provider generation conflict: resource provider {uuid} was changed by another request; get it again and retry."
        ),
    }
}

/// Replaces a provider's inventories as of generation `seen`; the new
/// generation. `change` turns the current inventories into the new ones.
pub async fn update(
    ctx: &ServiceContext,
    uuid: &str,
    seen: Option<i64>,
    change: impl FnOnce(&mut BTreeMap<String, Inventory>) -> Result<(), Error>,
) -> Result<i64, Error> {
    let (mut all, current) = list(ctx, uuid).await?;
    let seen = seen.unwrap_or(current);
    if seen != current {
        return Err(generation_conflict(uuid));
    }
    change(&mut all)?;
    let used = crate::db::allocation::usage(ctx.db(), uuid).await?;
    if let Some(class) = used
        .iter()
        .find(|(c, n)| **n > 0 && !all.contains_key(*c))
        .map(|(c, _)| c)
    {
        return Err(Error::CodedConflict {
            code: "placement.inventory.inuse",
            message: format!("Inventory for {class} on resource provider {uuid} in use."),
        });
    }
    for (class, inv) in &all {
        if !resource_class::exists(ctx, class).await? {
            return Err(Error::BadRequest(format!(
                "Unknown resource class in inventory for resource provider {uuid}: {class}."
            )));
        }
        inv.check(class)?;
    }
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !provider::bump(&txn, uuid, seen).await? {
        return Err(generation_conflict(uuid));
    }
    db::replace(
        &txn,
        uuid,
        all.iter().map(|(c, i)| i.row(uuid, c)).collect(),
    )
    .await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::select::cache::changed(ctx);
    Ok(seen + 1)
}
