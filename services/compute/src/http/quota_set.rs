//! `/v2.1/os-quota-sets/{project}`: a project's compute quotas.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::quota_set as app;

fn view(project: Option<&str>, limits: &BTreeMap<String, i64>) -> Value {
    let mut v = json!(limits);
    if let Some(p) = project {
        v["id"] = json!(p);
    }
    json!({ "quota_set": v })
}

/// Shows a project's quotas (its readers, or an admin).
#[utoipa::path(get, path = "/v2.1/os-quota-sets/{tenant_id}", tag = "quota-sets",
    params(("tenant_id" = String, Path, description = "The project")),
    security(("token" = [])),
    responses((status = 200, description = "The project's limits", body = Object),
              (status = 400, description = "A project identity does not know, or `user_id`"),
              (status = 403, description = "Another project's, not an admin")))]
pub async fn show_quota_set(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(project): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    app::no_user(&pairs)?;
    let limits = app::show(&ctx, &auth, &project).await?;
    Ok(Json(view(Some(&project), &limits)))
}

/// Shows a project's quotas with what it uses of each (its readers, or
/// an admin).
#[utoipa::path(get, path = "/v2.1/os-quota-sets/{tenant_id}/detail", tag = "quota-sets",
    params(("tenant_id" = String, Path, description = "The project")),
    security(("token" = [])),
    responses((status = 200, description = "{\"quota_set\": {\"<resource>\": {\"limit\", \"in_use\", \"reserved\"}}}", body = Object),
              (status = 400, description = "A project identity does not know, or `user_id`"),
              (status = 403, description = "Another project's, not an admin")))]
pub async fn show_quota_detail(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(project): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    app::no_user(&pairs)?;
    let limits = app::show(&ctx, &auth, &project).await?;
    let used = app::in_use(&ctx, &auth, &project).await?;
    let mut v = json!({"id": project});
    for (k, limit) in &limits {
        v[k] = json!({"limit": limit, "in_use": used.get(k).copied().unwrap_or(0), "reserved": 0});
    }
    Ok(Json(json!({ "quota_set": v })))
}

/// Shows the default quotas.
#[utoipa::path(get, path = "/v2.1/os-quota-sets/{tenant_id}/defaults", tag = "quota-sets",
    params(("tenant_id" = String, Path, description = "The project")),
    security(("token" = [])),
    responses((status = 200, description = "The defaults", body = Object)))]
pub async fn show_quota_defaults(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(project): Path<String>,
) -> Result<Json<Value>, Error> {
    let limits = app::show_defaults(&ctx, &auth, &project)?;
    Ok(Json(view(Some(&project), &limits)))
}

/// Sets a project's quotas (admins); -1 is unlimited.
#[utoipa::path(put, path = "/v2.1/os-quota-sets/{tenant_id}", tag = "quota-sets",
    params(("tenant_id" = String, Path, description = "The project")),
    request_body(content = Object, description = "{\"quota_set\": {\"instances\": 20, ...}}"),
    security(("token" = [])),
    responses((status = 200, description = "The project's limits now", body = Object),
              (status = 400, description = "An unknown resource, a bad limit, or an unknown project"),
              (status = 403, description = "Not an admin")))]
pub async fn update_quota_set(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(project): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    app::no_user(&pairs)?;
    let limits = app::update(&ctx, &auth, &project, &body).await?;
    Ok(Json(view(None, &limits)))
}

/// Reverts a project's quotas to the defaults (admins).
#[utoipa::path(delete, path = "/v2.1/os-quota-sets/{tenant_id}", tag = "quota-sets",
    params(("tenant_id" = String, Path, description = "The project")),
    security(("token" = [])),
    responses((status = 202, description = "Reverted"),
              (status = 403, description = "Not an admin")))]
pub async fn delete_quota_set(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(project): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<StatusCode, Error> {
    app::no_user(&pairs)?;
    app::revert(&ctx, &auth, &project).await?;
    Ok(StatusCode::ACCEPTED)
}
