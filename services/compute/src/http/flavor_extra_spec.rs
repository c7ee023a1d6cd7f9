//! `/v2.1/flavors/{id}/os-extra_specs`: a flavor's key/value pairs.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::flavor_extra_spec as app;

/// Lists a flavor's extra specs (whoever sees the flavor).
#[utoipa::path(get, path = "/v2.1/flavors/{flavor_id}/os-extra_specs", tag = "flavors",
    params(("flavor_id" = String, Path, description = "The flavor")),
    security(("token" = [])),
    responses((status = 200, description = "{\"extra_specs\": {...}}", body = Object),
              (status = 404, description = "No such flavor, or not visible")))]
pub async fn list_extra_specs(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let specs = app::list(&ctx, &auth, &id).await?;
    Ok(Json(json!({ "extra_specs": specs })))
}

/// Adds or replaces extra specs (admins); answers the pairs given.
#[utoipa::path(post, path = "/v2.1/flavors/{flavor_id}/os-extra_specs", tag = "flavors",
    params(("flavor_id" = String, Path, description = "The flavor")),
    request_body(content = Object, description = "{\"extra_specs\": {\"<key>\": \"<value>\"}}"),
    security(("token" = [])),
    responses((status = 200, description = "The pairs set", body = Object),
              (status = 400, description = "A bad key or value"),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such flavor")))]
pub async fn create_extra_specs(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    let specs = app::create(&ctx, &auth, &id, &body).await?;
    Ok(Json(json!({ "extra_specs": specs })))
}

/// Shows one extra spec.
#[utoipa::path(get, path = "/v2.1/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}", tag = "flavors",
    params(("flavor_id" = String, Path, description = "The flavor"),
           ("flavor_extra_spec_key" = String, Path, description = "The key")),
    security(("token" = [])),
    responses((status = 200, description = "{\"<key>\": \"<value>\"}", body = Object),
              (status = 404, description = "No such flavor or key")))]
pub async fn show_extra_spec(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((id, key)): Path<(String, String)>,
) -> Result<Json<Value>, Error> {
    let value = app::show(&ctx, &auth, &id, &key).await?;
    Ok(Json(json!({ key: value })))
}

/// Sets one extra spec (admins); the body names the URL's key.
#[utoipa::path(put, path = "/v2.1/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}", tag = "flavors",
    params(("flavor_id" = String, Path, description = "The flavor"),
           ("flavor_extra_spec_key" = String, Path, description = "The key")),
    request_body(content = Object, description = "{\"<key>\": \"<value>\"}"),
    security(("token" = [])),
    responses((status = 200, description = "The pair set", body = Object),
              (status = 400, description = "Another key than the URL's, more than one, or a bad value"),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such flavor")))]
pub async fn update_extra_spec(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((id, key)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    let (k, v) = app::update(&ctx, &auth, &id, &key, &body).await?;
    Ok(Json(json!({ k: v })))
}

/// Deletes one extra spec (admins).
#[utoipa::path(delete, path = "/v2.1/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}", tag = "flavors",
    params(("flavor_id" = String, Path, description = "The flavor"),
           ("flavor_extra_spec_key" = String, Path, description = "The key")),
    security(("token" = [])),
    responses((status = 200, description = "Deleted"),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such flavor or key")))]
pub async fn delete_extra_spec(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((id, key)): Path<(String, String)>,
) -> Result<(), Error> {
    app::delete(&ctx, &auth, &id, &key).await
}
