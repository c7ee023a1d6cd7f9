//! Image stores: `GET /v2/info/stores` (and `/detail`, admin), Virga's
//! per-site view of one image `GET /v2/images/{image_id}/stores`, and
//! `DELETE /v2/stores/{store_id}/{image_id}` (API v2.10).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_common::config::ImageStoreConfig;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::stores;

fn listed(ctx: &ServiceContext, detail: bool) -> Vec<Value> {
    let cfg = &ctx.config().image;
    let kind = |s: &ImageStoreConfig| match s {
        ImageStoreConfig::S3(_) => "s3",
        _ => "file",
    };
    let mut out = vec![json!({"id": cfg.store_id, "default": true,
        "description": "The central image library"})];
    if detail {
        out[0]["type"] = json!(kind(&cfg.store));
        out[0]["properties"] = json!({});
    }
    for (id, site) in &cfg.stores {
        let mut s = json!({"id": id, "description": site.description});
        if detail {
            s["type"] = json!(site.as_store().as_ref().map(kind).unwrap_or("file"));
            s["properties"] = json!({});
        }
        out.push(s);
    }
    out
}

/// The stores images can be kept in (API v2.8): the central library (the
/// default) and one per edge site.
#[utoipa::path(get, path = "/v2/info/stores", tag = "images",
    security(("token" = [])),
    responses((status = 200, description = "The stores", body = Object)))]
pub async fn list_stores(_auth: Auth, State(ctx): State<ServiceContext>) -> Json<Value> {
    Json(json!({"stores": listed(&ctx, false)}))
}

/// The stores with their type (admin; Glance's detail call).
#[utoipa::path(get, path = "/v2/info/stores/detail", tag = "images",
    security(("token" = [])),
    responses((status = 200, description = "The stores with their type", body = Object),
              (status = 403, description = "Not an admin")))]
pub async fn list_stores_detail(
    auth: Auth,
    State(ctx): State<ServiceContext>,
) -> Result<Json<Value>, Error> {
    if !auth.allows("context_is_admin", &Target::new()) {
        return Err(Error::Forbidden("Store details are for admins.".into()));
    }
    Ok(Json(json!({"stores": listed(&ctx, true)})))
}

/// Virga's: where an image is, store by store, with each site copy's
/// state (`queued`, `copying`, `verifying`, `active`, `failed` with a
/// `reason`).
#[utoipa::path(get, path = "/v2/images/{image_id}/stores", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    security(("token" = [])),
    responses((status = 200, description = "The image's copies", body = Object),
              (status = 404, description = "No such image")))]
pub async fn list_image_stores(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let copies = stores::copies(&ctx, &auth, &id).await?;
    Ok(Json(json!({"stores": copies})))
}

/// Deletes an image's copy from one site's store (admin). The central
/// copy goes only with the image: 409.
#[utoipa::path(delete, path = "/v2/stores/{store_id}/{image_id}", tag = "images",
    params(("store_id" = String, Path, description = "The site's store"),
           ("image_id" = String, Path, description = "The image")),
    security(("token" = [])),
    responses((status = 204, description = "The copy is gone"),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such image, or no copy there"),
              (status = 409, description = "The central store, an unknown store, or a copy in progress")))]
pub async fn delete_from_store(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((store_id, id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    stores::delete_copy(&ctx, &auth, &store_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
