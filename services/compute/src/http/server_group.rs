//! `/v2.1/os-server-groups`: groups of servers placed by one policy.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use crate::app::server_group::{self as app, GroupDoc};

/// A group as Nova shows it at `at` (2.13: with its project and user).
fn view(d: &GroupDoc, at: Microversion) -> Value {
    let mut v = json!({
        "id": d.model.id, "name": d.model.name, "policies": [d.model.policy],
        "members": d.members, "metadata": {},
    });
    if at.at_least(13) {
        v["project_id"] = json!(d.model.project_id);
        v["user_id"] = json!(d.model.user_id);
    }
    v
}

/// Lists the caller's project's server groups (admins: with
/// `all_projects=True`, everyone's).
#[utoipa::path(get, path = "/v2.1/os-server-groups", tag = "server-groups",
    params(("all_projects" = Option<bool>, Query, description = "Admins: every project's"),
           ("limit" = Option<u32>, Query, description = "Page size (at most 1000)"),
           ("offset" = Option<u32>, Query, description = "Groups to skip")),
    security(("token" = [])),
    responses((status = 200, description = "Server groups", body = Object),
              (status = 400, description = "A bad limit or offset")))]
pub async fn list_server_groups(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let docs = app::list(&ctx, &auth, &pairs).await?;
    Ok(Json(
        json!({"server_groups": docs.iter().map(|d| view(d, v)).collect::<Vec<_>>()}),
    ))
}

/// Creates a server group in the caller's project (within its
/// `server_groups` quota).
#[utoipa::path(post, path = "/v2.1/os-server-groups", tag = "server-groups",
    request_body(content = Object, description = "{\"server_group\": {\"name\": \"...\", \"policies\": [\"anti-affinity\"]}} (2.15: also soft-affinity, soft-anti-affinity)"),
    security(("token" = [])),
    responses((status = 200, description = "The new group", body = Object),
              (status = 400, description = "A bad name or policy"),
              (status = 403, description = "Over quota, or not a member")))]
pub async fn create_server_group(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    let (name, policy) = app::parse_create(&body, v)?;
    let d = app::create(&ctx, &auth, name, policy).await?;
    Ok(Json(json!({"server_group": view(&d, v)})))
}

/// Shows a server group of the caller's project.
#[utoipa::path(get, path = "/v2.1/os-server-groups/{server_group_id}", tag = "server-groups",
    params(("server_group_id" = String, Path, description = "The group")),
    security(("token" = [])),
    responses((status = 200, description = "The group", body = Object),
              (status = 404, description = "No such group, or another project's")))]
pub async fn show_server_group(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let d = app::get(&ctx, &auth, &id).await?;
    Ok(Json(json!({"server_group": view(&d, v)})))
}

/// Deletes a server group of the caller's project.
#[utoipa::path(delete, path = "/v2.1/os-server-groups/{server_group_id}", tag = "server-groups",
    params(("server_group_id" = String, Path, description = "The group")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 403, description = "A reader"),
              (status = 404, description = "No such group, or another project's")))]
pub async fn delete_server_group(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
