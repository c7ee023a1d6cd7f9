//! Resource providers: create (a root of its own tree until nesting comes
//! with microversion 1.14), list with filters, show, rename, delete.

use virga_common::Error;
use virga_service::ServiceContext;

use crate::db::{now, provider as db};

pub use crate::db::provider::{Filter, Model};

fn not_found(uuid: &str) -> Error {
    Error::NotFound {
        kind: "resource provider",
        id: uuid.to_owned(),
    }
}

pub async fn get(ctx: &ServiceContext, uuid: &str) -> Result<Model, Error> {
    db::find(ctx.db(), uuid)
        .await?
        .ok_or_else(|| not_found(uuid))
}

pub async fn create(
    ctx: &ServiceContext,
    name: String,
    uuid: Option<String>,
) -> Result<Model, Error> {
    let uuid = uuid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let at = now();
    let m = db::create(
        ctx.db(),
        Model {
            root_uuid: uuid.clone(),
            uuid,
            name,
            generation: 0,
            parent_uuid: None,
            created_at: at,
            updated_at: at,
        },
    )
    .await?;
    tracing::info!(provider = %m.uuid, name = %m.name, "resource provider created");
    Ok(m)
}

/// Providers matching `filter`; with `resources` (class → amount), only
/// those with room for every amount.
pub async fn list(
    ctx: &ServiceContext,
    filter: &Filter,
    resources: Option<&std::collections::BTreeMap<String, i64>>,
) -> Result<Vec<Model>, Error> {
    let all = db::list(ctx.db(), filter).await?;
    let Some(wanted) = resources else {
        return Ok(all);
    };
    for class in wanted.keys() {
        if !super::resource_class::exists(ctx, class).await? {
            return Err(Error::BadRequest(format!(
                "Invalid resource class in resources parameter: {class}"
            )));
        }
    }
    let mut out = Vec::new();
    for p in all {
        if has_room(ctx, &p.uuid, wanted).await? {
            out.push(p);
        }
    }
    Ok(out)
}

async fn has_room(
    ctx: &ServiceContext,
    uuid: &str,
    wanted: &std::collections::BTreeMap<String, i64>,
) -> Result<bool, Error> {
    let invs = crate::db::inventory::of(ctx.db(), uuid).await?;
    let used = crate::db::allocation::usage(ctx.db(), uuid).await?;
    Ok(wanted.iter().all(|(class, amount)| {
        invs.iter()
            .find(|i| i.resource_class == *class)
            .is_some_and(|i| {
                let inv = super::inventory::Inventory::of(i);
                let now = used.get(class).copied().unwrap_or(0);
                super::capacity::check(class, uuid, &inv, now, *amount).is_ok()
            })
    }))
}

pub async fn rename(ctx: &ServiceContext, uuid: &str, name: &str) -> Result<Model, Error> {
    get(ctx, uuid).await?;
    db::rename(ctx.db(), uuid, name).await?;
    get(ctx, uuid).await
}

/// Deletes a provider with no child providers (its inventories and
/// aggregate memberships go with it).
pub async fn delete(ctx: &ServiceContext, uuid: &str) -> Result<(), Error> {
    get(ctx, uuid).await?;
    if !crate::db::allocation::of_provider(ctx.db(), uuid)
        .await?
        .is_empty()
    {
        return Err(Error::Conflict(format!(
            "Unable to delete resource provider {uuid}: Resource provider has allocations."
        )));
    }
    if db::has_children(ctx.db(), uuid).await? {
        return Err(Error::Conflict(format!(
            "Unable to delete parent resource provider {uuid}: It has child resource providers."
        )));
    }
    db::delete(ctx.db(), uuid).await?;
    tracing::info!(provider = %uuid, "resource provider deleted");
    Ok(())
}
