//! Resource providers: create, list with filters, show, rename, delete,
//! and (microversion 1.14) trees: a site's node is a child of the site, a
//! node's GPU a child of the node; every provider knows its tree's root.

use std::collections::BTreeSet;

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

fn no_parent(parent: &str) -> Error {
    Error::BadRequest(format!("parent provider UUID {parent} does not exist."))
}

/// Creates a provider, a root or (1.14) a child of `parent`.
pub async fn create(
    ctx: &ServiceContext,
    name: String,
    uuid: Option<String>,
    parent: Option<String>,
) -> Result<Model, Error> {
    let uuid = uuid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let root_uuid = match &parent {
        Some(p) => {
            db::find(ctx.db(), p)
                .await?
                .ok_or_else(|| no_parent(p))?
                .root_uuid
        }
        None => uuid.clone(),
    };
    let at = now();
    let m = db::create(
        ctx.db(),
        Model {
            root_uuid,
            uuid,
            name,
            generation: 0,
            parent_uuid: parent,
            created_at: at,
            updated_at: at,
        },
    )
    .await?;
    tracing::info!(provider = %m.uuid, name = %m.name, parent = ?m.parent_uuid, "resource provider created");
    crate::app::select::cache::changed(ctx);
    Ok(m)
}

/// The root of the tree `uuid` is in, if it exists (for `in_tree`).
pub async fn root_of(ctx: &ServiceContext, uuid: &str) -> Result<Option<String>, Error> {
    Ok(db::find(ctx.db(), uuid).await?.map(|p| p.root_uuid))
}

/// Traits a listed provider must have and must not have (1.18, 1.22),
/// and of which it must have one (1.39).
pub type TraitFilter = super::traits::Traits;

/// Providers matching `filter` and `traits`; with `resources` (class →
/// amount), only those with room for every amount.
pub async fn list(
    ctx: &ServiceContext,
    filter: &Filter,
    resources: Option<&std::collections::BTreeMap<String, i64>>,
    traits: &TraitFilter,
) -> Result<Vec<Model>, Error> {
    let mut all = db::list(ctx.db(), filter).await?;
    if !traits.is_empty() {
        let named: Vec<String> = traits
            .required
            .iter()
            .chain(traits.any.iter().flatten())
            .chain(&traits.forbidden)
            .cloned()
            .collect();
        let unknown = super::traits::unknown(ctx, &named).await?;
        if !unknown.is_empty() {
            return Err(super::traits::no_such(&unknown));
        }
        let uuids: Vec<String> = all.iter().map(|p| p.uuid.clone()).collect();
        let has = crate::db::candidate::traits(ctx.db(), &uuids).await?;
        let none = BTreeSet::new();
        all.retain(|p| {
            let mine = has.get(&p.uuid).unwrap_or(&none);
            traits.required.is_subset(mine)
                && traits.any.iter().all(|any| !any.is_disjoint(mine))
                && traits.forbidden.is_disjoint(mine)
        });
    }
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
    Ok(wanted.iter().all(|(class, amount)| {
        invs.iter()
            .find(|i| i.resource_class == *class)
            .is_some_and(|i| {
                let inv = super::inventory::Inventory::of(i);
                super::capacity::check(class, uuid, &inv, i.used, *amount).is_ok()
            })
    }))
}

/// Renames a provider and (1.14) gives a root provider a parent: `parent`
/// is `None` when not given, `Some(None)` to have none. Before 1.37
/// (`move_allowed`) a provider keeps its parent once it has one; from
/// 1.37 it may move to another parent, in any tree, or become a root,
/// its descendants with it. A tree never becomes a loop.
pub async fn update(
    ctx: &ServiceContext,
    uuid: &str,
    name: &str,
    parent: Option<Option<String>>,
    move_allowed: bool,
) -> Result<Model, Error> {
    let me = get(ctx, uuid).await?;
    match (parent, &me.parent_uuid) {
        (None, _) => {}
        (Some(new), old) if new.as_ref() == old.as_ref() => {}
        (Some(None), Some(_)) if !move_allowed => {
            return Err(Error::BadRequest(
                "un-parenting a provider is not currently allowed.".into(),
            ));
        }
        (Some(Some(_)), Some(_)) if !move_allowed => {
            return Err(Error::BadRequest(
                "re-parenting a provider is not currently allowed.".into(),
            ));
        }
        (Some(new), _) => move_to(ctx, &me, new.as_deref()).await?,
    }
    if name != me.name {
        db::rename(ctx.db(), uuid, name).await?;
    }
    crate::app::select::cache::changed(ctx);
    get(ctx, uuid).await
}

/// Moves `me` and its descendants under `parent` (`None`: a root).
async fn move_to(ctx: &ServiceContext, me: &Model, parent: Option<&str>) -> Result<(), Error> {
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let tree = db::list(
        &txn,
        &Filter {
            root: Some(me.root_uuid.clone()),
            ..Filter::default()
        },
    )
    .await?;
    let subtree = descendants(&tree, &me.uuid);
    let root = match parent {
        None => me.uuid.clone(),
        Some(p) => {
            let parent = db::find(&txn, p).await?.ok_or_else(|| no_parent(p))?;
            if subtree.contains(&parent.uuid) {
                return Err(Error::BadRequest(
                    "creating loop in the provider tree is not allowed.".into(),
                ));
            }
            parent.root_uuid
        }
    };
    let subtree: Vec<String> = subtree.into_iter().collect();
    if !db::move_subtree(
        &txn,
        &me.uuid,
        me.parent_uuid.as_deref(),
        parent,
        &root,
        &subtree,
    )
    .await?
    {
        return Err(Error::CodedConflict {
            code: "placement.concurrent_update",
            message: format!(
                "resource provider {} was changed concurrently; retry.",
                me.uuid
            ),
        });
    }
    txn.commit().await.map_err(Error::internal)?;
    tracing::info!(provider = %me.uuid, parent = ?parent, root = %root, "resource provider moved");
    Ok(())
}

/// `uuid` and every provider below it in `tree`.
fn descendants(tree: &[Model], uuid: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::from([uuid.to_owned()]);
    loop {
        let more: Vec<String> = tree
            .iter()
            .filter(|p| {
                p.parent_uuid.as_ref().is_some_and(|q| out.contains(q)) && !out.contains(&p.uuid)
            })
            .map(|p| p.uuid.clone())
            .collect();
        if more.is_empty() {
            return out;
        }
        out.extend(more);
    }
}

/// Deletes a provider with no child providers (its inventories and
/// aggregate memberships go with it).
pub async fn delete(ctx: &ServiceContext, uuid: &str) -> Result<(), Error> {
    get(ctx, uuid).await?;
    if !crate::db::allocation::of_provider(ctx.db(), uuid)
        .await?
        .is_empty()
    {
        return Err(Error::CodedConflict {
            code: "placement.resource_provider.inuse",
            message: format!(
                "Unable to delete resource provider {uuid}: Resource provider has allocations."
            ),
        });
    }
    if db::has_children(ctx.db(), uuid).await? {
        return Err(Error::CodedConflict {
            code: "placement.resource_provider.cannot_delete_parent",
            message: format!(
                "Unable to delete parent resource provider {uuid}: It has child resource providers."
            ),
        });
    }
    db::delete(ctx.db(), uuid).await?;
    crate::app::select::cache::changed(ctx);
    tracing::info!(provider = %uuid, "resource provider deleted");
    Ok(())
}
