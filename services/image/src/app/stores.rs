//! Image stores (Glance's multi-store): the central library and one store
//! per edge site. Which exist (`/v2/info/stores`), which hold an image
//! (`stores`, and Virga's per-site detail), and removing a site's copy.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::db::image::Model;
use crate::db::location;
use crate::store::Store;

/// Every store id, the central one first.
pub fn ids(ctx: &ServiceContext) -> Vec<String> {
    let cfg = &ctx.config().image;
    std::iter::once(cfg.store_id.clone())
        .chain(cfg.stores.keys().cloned())
        .collect()
}

/// Whether the cloud has edge-site stores (Glance's multi-store enabled).
pub fn multi(ctx: &ServiceContext) -> bool {
    !ctx.config().image.stores.is_empty()
}

/// A site's store; 409 (Glance's answer) for an id the cloud does not know.
pub fn site(ctx: &ServiceContext, id: &str) -> Result<Arc<dyn Store>, Error> {
    // The central store's id is known to `by_id` too, but is no site.
    let unknown = || Error::Conflict(format!("Unknown store '{id}'."));
    if !ctx.config().image.stores.contains_key(id) {
        return Err(unknown());
    }
    crate::store::by_id(ctx.config(), id)
        .ok_or_else(unknown)?
        .map_err(Error::internal)
}

fn has_data(m: &Model) -> bool {
    matches!(m.status.as_str(), "active" | "deactivated")
}

/// The stores holding each image's data, for a multi-store cloud.
pub async fn held(
    ctx: &ServiceContext,
    models: &[Model],
) -> Result<HashMap<String, Vec<String>>, Error> {
    if !multi(ctx) {
        return Ok(HashMap::new());
    }
    let ids: Vec<String> = models.iter().map(|m| m.id.clone()).collect();
    let mut copies = location::active_of(ctx.db(), &ids).await?;
    let central = &ctx.config().image.store_id;
    Ok(models
        .iter()
        .map(|m| {
            let mut held: Vec<String> = Vec::new();
            if has_data(m) {
                held.push(central.clone());
            }
            held.extend(copies.remove(&m.id).unwrap_or_default());
            (m.id.clone(), held)
        })
        .collect())
}

/// One store's copy of an image, as Virga's per-site detail shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Copy {
    pub id: String,
    /// queued, copying, verifying, active or failed.
    pub status: String,
    /// Why the last copy failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub updated_at: String,
}

/// Where an image is, store by store: the central store while it has
/// data, then each site that has or had a copy.
pub async fn copies(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Vec<Copy>, Error> {
    let m = super::image::visible(ctx, auth, id).await?.model;
    let mut out = Vec::new();
    if has_data(&m) {
        out.push(Copy {
            id: ctx.config().image.store_id.clone(),
            status: location::ACTIVE.into(),
            reason: None,
            updated_at: crate::http::glance_time(&m.updated_at),
        });
    }
    for l in location::of(ctx.db(), id).await? {
        out.push(Copy {
            id: l.store_id,
            status: l.status,
            reason: l.reason,
            updated_at: crate::http::glance_time(&l.updated_at),
        });
    }
    Ok(out)
}

/// `DELETE /v2/stores/{store}/{image}`: drops a site's copy (admin). The
/// central copy is the library's and goes only with the image (409).
pub async fn delete_copy(
    ctx: &ServiceContext,
    auth: &Auth,
    store_id: &str,
    id: &str,
) -> Result<(), Error> {
    super::image::visible(ctx, auth, id).await?;
    if !auth.allows("context_is_admin", &Target::new()) {
        return Err(Error::Forbidden(
            "Only an admin may delete an image from a store.".into(),
        ));
    }
    if store_id == ctx.config().image.store_id {
        return Err(Error::Conflict(format!(
            "The image's data in the central store '{store_id}' goes only with the image."
        )));
    }
    let store = site(ctx, store_id)?;
    let held = location::of(ctx.db(), id).await?;
    match held.iter().find(|l| l.store_id == store_id) {
        None => Err(Error::NotFound {
            kind: "image location",
            id: format!("{store_id}/{id}"),
        }),
        Some(l) if l.status != location::ACTIVE && l.status != location::FAILED => {
            Err(Error::Conflict(format!(
                "The copy in '{store_id}' is {}; try again once it is done.",
                l.status
            )))
        }
        Some(_) => {
            store.delete(id).await.map_err(Error::internal)?;
            location::remove(ctx.db(), id, store_id).await?;
            tracing::info!(image = %id, store = %store_id, "image copy deleted from a site store");
            Ok(())
        }
    }
}

/// Removes a deleted image's copies from the sites that had them.
pub async fn forget(ctx: &ServiceContext, id: &str, had: &[location::Model]) {
    for l in had {
        let gone = match site(ctx, &l.store_id) {
            Ok(s) => s.delete(id).await.map_err(Error::internal),
            Err(e) => Err(e),
        };
        if let Err(e) = gone {
            tracing::warn!(image = %id, store = %l.store_id, error = %virga_common::error::chain(&e), "removing a site's copy failed");
        }
    }
}
