//! `/v2.0/security-groups`: security groups with their rules; a project's
//! `default` group appears on first need.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body::Body;
use super::{neutron_time, query, security_group_rule};
use crate::app::security_group::{self as app, GroupChanges, GroupDoc};

const POST: &[&str] = &["name", "description", "stateful", "tenant_id", "project_id"];
const PUT: &[&str] = &["name", "description", "stateful"];
const READ_ONLY: &[&str] = &[
    "id",
    "security_group_rules",
    "created_at",
    "updated_at",
    "revision_number",
];

pub fn view(d: &GroupDoc) -> Value {
    let m = &d.model;
    json!({
        "id": m.id, "name": m.name, "description": m.description, "stateful": m.stateful,
        "tenant_id": m.project_id, "project_id": m.project_id,
        "security_group_rules": d.rules.iter().map(security_group_rule::view).collect::<Vec<_>>(),
        "created_at": neutron_time(&m.created_at), "updated_at": neutron_time(&m.updated_at),
        "revision_number": m.revision_number,
    })
}

/// Lists the caller's security groups (an admin: all), its `default` group
/// among them, with their rules; Neutron's filters, `fields`, sorting and
/// pagination.
#[utoipa::path(get, path = "/v2.0/security-groups", tag = "security-groups",
    params(("limit" = Option<u64>, Query, description = "Page size"),
           ("marker" = Option<String>, Query, description = "The last group of the previous page"),
           ("sort_key" = Option<String>, Query, description = "An attribute to sort by (repeatable)"),
           ("sort_dir" = Option<String>, Query, description = "asc or desc, one per sort_key"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "Security groups", body = Object),
              (status = 400, description = "A bad filter, sort key or limit")))]
pub async fn list_security_groups(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let q = query::parse(&pairs, app::FILTERS, app::SORT_KEYS)?;
    let docs = app::list(&ctx, &auth, &q).await?;
    let items = docs.iter().map(|d| (d.model.id.clone(), view(d))).collect();
    Ok(Json(query::page(
        "security_groups",
        "/v2.0/security-groups",
        &pairs,
        &q,
        items,
    )))
}

/// Creates a security group allowing all egress (IPv4 and IPv6) and no
/// ingress; the name `default` is the project's own group's (409).
#[utoipa::path(post, path = "/v2.0/security-groups", tag = "security-groups",
    request_body(content = Object, description = "{\"security_group\": {...}}"),
    security(("token" = [])),
    responses((status = 201, description = "Created", body = Object),
              (status = 400, description = "A bad attribute"),
              (status = 409, description = "Named `default`")))]
pub async fn create_security_group(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(raw): Json<Value>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let b = Body::new(raw, "security_group", "POST", POST, READ_ONLY)?;
    let d = app::create(
        &ctx,
        &auth,
        b.project()?,
        b.string("name", 255)?.unwrap_or_default(),
        b.string("description", 255)?.unwrap_or_default(),
        b.bool("stateful")?.unwrap_or(true),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"security_group": view(&d)})),
    ))
}

/// Shows one of the caller's security groups; any other is 404.
#[utoipa::path(get, path = "/v2.0/security-groups/{security_group_id}", tag = "security-groups",
    params(("security_group_id" = String, Path, description = "The group"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "The group", body = Object),
              (status = 404, description = "No such group, or not visible")))]
pub async fn show_security_group(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let d = app::get(&ctx, &auth, &id).await?;
    let v = query::shown(view(&d), &pairs);
    Ok(Json(json!({ "security_group": v })))
}

/// Renames or re-describes a group (not the `default` group's name), or
/// makes it stateless / stateful while no port is in it.
#[utoipa::path(put, path = "/v2.0/security-groups/{security_group_id}", tag = "security-groups",
    params(("security_group_id" = String, Path, description = "The group")),
    request_body(content = Object, description = "{\"security_group\": {...}}"),
    security(("token" = [])),
    responses((status = 200, description = "The changed group", body = Object),
              (status = 400, description = "A bad or read-only attribute"),
              (status = 404, description = "No such group, or not visible"),
              (status = 409, description = "The default group's name, or in use")))]
pub async fn update_security_group(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(raw): Json<Value>,
) -> Result<Json<Value>, Error> {
    // The app finds the resource first: another project's is 404
    // whatever its body says.
    let ch = changes(raw);
    let d = app::update(&ctx, &auth, &id, ch).await?;
    Ok(Json(json!({ "security_group": view(&d) })))
}

/// Deletes a group and its rules; 409 while ports are in it, or (not
/// admin) for the project's default group.
#[utoipa::path(delete, path = "/v2.0/security-groups/{security_group_id}", tag = "security-groups",
    params(("security_group_id" = String, Path, description = "The group")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such group, or not visible"),
              (status = 409, description = "In use, or the default group")))]
pub async fn delete_security_group(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An update's body, read into the changes it asks for.
fn changes(raw: Value) -> Result<GroupChanges, Error> {
    let known: Vec<&str> = READ_ONLY.iter().chain(POST).copied().collect();
    let b = Body::new(raw, "security_group", "PUT", PUT, &known)?;
    Ok(GroupChanges {
        name: b.string("name", 255)?,
        description: b.string("description", 255)?,
        stateful: b.bool("stateful")?,
    })
}
