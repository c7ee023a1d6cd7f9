//! `/v2.0/quotas`: Neutron's quotas per project (admins set them; a
//! project reads its own), with their defaults and their use.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body::Body;
use crate::app::quota::{self as app, RESOURCES};

fn view(limits: &BTreeMap<String, i64>) -> Value {
    Value::Object(limits.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// Lists the projects whose quotas an admin set, with all their limits.
#[utoipa::path(get, path = "/v2.0/quotas", tag = "quotas",
    security(("token" = [])),
    responses((status = 200, description = "Projects' quotas", body = Object),
              (status = 403, description = "Not an admin")))]
pub async fn list_quotas(
    auth: Auth,
    State(ctx): State<ServiceContext>,
) -> Result<Json<Value>, Error> {
    let list: Vec<Value> = app::list(&ctx, &auth)
        .await?
        .into_iter()
        .map(|(p, l)| {
            let mut v = view(&l);
            v["project_id"] = json!(p);
            v["tenant_id"] = json!(p);
            v
        })
        .collect();
    Ok(Json(json!({ "quotas": list })))
}

/// Shows a project's limits (the defaults where none was set); -1 is
/// unlimited.
#[utoipa::path(get, path = "/v2.0/quotas/{project_id}", tag = "quotas",
    params(("project_id" = String, Path, description = "The project")),
    security(("token" = [])),
    responses((status = 200, description = "The limits", body = Object),
              (status = 404, description = "Another project's, not an admin")))]
pub async fn show_quota(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(project): Path<String>,
) -> Result<Json<Value>, Error> {
    Ok(Json(
        json!({"quota": view(&app::show(&ctx, &auth, &project).await?)}),
    ))
}

/// Shows the default limits.
#[utoipa::path(get, path = "/v2.0/quotas/{project_id}/default", tag = "quotas",
    params(("project_id" = String, Path, description = "The project")),
    security(("token" = [])),
    responses((status = 200, description = "The defaults", body = Object),
              (status = 404, description = "Another project's, not an admin")))]
pub async fn show_default_quota(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(project): Path<String>,
) -> Result<Json<Value>, Error> {
    app::check_visible(&auth, &project)?;
    Ok(Json(
        json!({"quota": view(&app::defaults(&ctx.config().network.quota))}),
    ))
}

/// Shows each limit with what the project uses of it.
#[utoipa::path(get, path = "/v2.0/quotas/{project_id}/details", tag = "quotas",
    params(("project_id" = String, Path, description = "The project")),
    security(("token" = [])),
    responses((status = 200, description = "Limits and use", body = Object),
              (status = 404, description = "Another project's, not an admin")))]
pub async fn show_quota_details(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(project): Path<String>,
) -> Result<Json<Value>, Error> {
    let d = app::details(&ctx, &auth, &project).await?;
    let v: Map<String, Value> = d
        .into_iter()
        .map(|(k, (limit, used))| (k, json!({"limit": limit, "used": used, "reserved": 0})))
        .collect();
    Ok(Json(json!({"quota": v})))
}

/// Sets some of a project's limits (admins); -1 is unlimited.
#[utoipa::path(put, path = "/v2.0/quotas/{project_id}", tag = "quotas",
    params(("project_id" = String, Path, description = "The project")),
    request_body(content = Object, description = "{\"quota\": {\"port\": 1000, ...}}"),
    security(("token" = [])),
    responses((status = 200, description = "The project's limits", body = Object),
              (status = 400, description = "An unknown resource or a bad limit"),
              (status = 403, description = "Not an admin")))]
pub async fn update_quota(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(project): Path<String>,
    Json(raw): Json<Value>,
) -> Result<Json<Value>, Error> {
    // Another project's quotas are 404 before the body is read.
    app::check_visible(&auth, &project)?;
    let b = Body::new(raw, "quota", "PUT", RESOURCES, &[])?;
    let mut changes = BTreeMap::new();
    for r in RESOURCES {
        if let Some(v) = b.int(r)? {
            if v < -1 {
                return Err(Error::BadRequest(format!(
                    "Invalid input for {r}. Reason: '{v}' should be greater than or equal to -1."
                )));
            }
            changes.insert((*r).to_owned(), v);
        }
    }
    Ok(Json(
        json!({"quota": view(&app::update(&ctx, &auth, &project, changes).await?)}),
    ))
}

/// Forgets a project's limits: the defaults apply again (admins).
#[utoipa::path(delete, path = "/v2.0/quotas/{project_id}", tag = "quotas",
    params(("project_id" = String, Path, description = "The project")),
    security(("token" = [])),
    responses((status = 204, description = "Reset"),
              (status = 403, description = "Not an admin")))]
pub async fn delete_quota(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(project): Path<String>,
) -> Result<StatusCode, Error> {
    app::reset(&ctx, &auth, &project).await?;
    Ok(StatusCode::NO_CONTENT)
}
