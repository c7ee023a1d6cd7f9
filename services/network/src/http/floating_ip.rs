//! `/v2.0/floatingips`: Neutron's floating IPs.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body::Body;
use super::{neutron_time, query};
use crate::app::floating_ip::{self as app, FloatingIpChanges, NewFloatingIp};
use crate::db::floating_ip::Model;

const POST: &[&str] = &[
    "floating_network_id",
    "floating_ip_address",
    "subnet_id",
    "port_id",
    "fixed_ip_address",
    "description",
    "tenant_id",
    "project_id",
];
const PUT: &[&str] = &["port_id", "fixed_ip_address", "description"];
const READ_ONLY: &[&str] = &[
    "id",
    "router_id",
    "status",
    "created_at",
    "updated_at",
    "revision_number",
];

pub fn view(m: &Model) -> Value {
    json!({
        "id": m.id, "tenant_id": m.project_id, "project_id": m.project_id,
        "floating_network_id": m.floating_network_id,
        "floating_ip_address": m.floating_ip_address, "router_id": m.router_id,
        "port_id": m.port_id, "fixed_ip_address": m.fixed_ip_address, "status": m.status,
        "description": m.description,
        "created_at": neutron_time(&m.created_at), "updated_at": neutron_time(&m.updated_at),
        "revision_number": m.revision_number,
    })
}

/// Lists the caller's floating IPs (an admin: all).
#[utoipa::path(get, path = "/v2.0/floatingips", tag = "floatingips",
    params(("limit" = Option<u64>, Query, description = "Page size"),
           ("marker" = Option<String>, Query, description = "The last floating IP of the previous page"),
           ("sort_key" = Option<String>, Query, description = "An attribute to sort by (repeatable)"),
           ("sort_dir" = Option<String>, Query, description = "asc or desc, one per sort_key"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "Floating IPs", body = Object),
              (status = 400, description = "A bad filter, sort key or limit")))]
pub async fn list_floating_ips(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let q = query::parse(&pairs, app::FILTERS, app::SORT_KEYS)?;
    let rows = app::list(&ctx, &auth, &q).await?;
    let items = rows.iter().map(|m| (m.id.clone(), view(m))).collect();
    Ok(Json(query::page(
        "floatingips",
        "/v2.0/floatingips",
        &pairs,
        &q,
        items,
    )))
}

/// Takes an address of an external network (an admin may name it) and,
/// with `port_id`, maps it to one of the port's fixed IPv4 addresses
/// through a router joining the port's subnet to that network.
#[utoipa::path(post, path = "/v2.0/floatingips", tag = "floatingips",
    request_body(content = Object, description = "{\"floatingip\": {...}}"),
    security(("token" = [])),
    responses((status = 201, description = "Created", body = Object),
              (status = 400, description = "A bad attribute, not an external network, or an ambiguous fixed address"),
              (status = 404, description = "No such network or port, or no router reaches the port"),
              (status = 409, description = "Over quota, the address taken, or the fixed address has one")))]
pub async fn create_floating_ip(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(raw): Json<Value>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let b = Body::new(raw, "floatingip", "POST", POST, READ_ONLY)?;
    let new = NewFloatingIp {
        project_id: b.project()?,
        floating_network_id: b.string("floating_network_id", 36)?.ok_or_else(|| {
            Error::BadRequest(
                "Failed to parse request. Required attribute 'floating_network_id' not specified"
                    .into(),
            )
        })?,
        floating_ip_address: b.string("floating_ip_address", 64)?,
        subnet_id: b.string("subnet_id", 36)?,
        port_id: b.nullable_string("port_id", 36)?.flatten(),
        fixed_ip_address: b.nullable_string("fixed_ip_address", 64)?.flatten(),
        description: b.string("description", 255)?.unwrap_or_default(),
    };
    let m = app::create(&ctx, &auth, new).await?;
    Ok((StatusCode::CREATED, Json(json!({"floatingip": view(&m)}))))
}

/// Shows one of the caller's floating IPs; any other is 404.
#[utoipa::path(get, path = "/v2.0/floatingips/{floatingip_id}", tag = "floatingips",
    params(("floatingip_id" = String, Path, description = "The floating IP"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "The floating IP", body = Object),
              (status = 404, description = "No such floating IP, or not visible")))]
pub async fn show_floating_ip(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let m = app::visible(&ctx, &auth, &id).await?;
    let v = query::shown(view(&m), &pairs);
    Ok(Json(json!({ "floatingip": v })))
}

/// Associates (`port_id`) or disassociates (`port_id: null`) the floating
/// IP, or changes its description.
#[utoipa::path(put, path = "/v2.0/floatingips/{floatingip_id}", tag = "floatingips",
    params(("floatingip_id" = String, Path, description = "The floating IP")),
    request_body(content = Object, description = "{\"floatingip\": {\"port_id\": ...}}"),
    security(("token" = [])),
    responses((status = 200, description = "The changed floating IP", body = Object),
              (status = 400, description = "A bad attribute, or an ambiguous fixed address"),
              (status = 404, description = "No such floating IP or port, or no router reaches the port"),
              (status = 409, description = "The fixed address has a floating IP")))]
pub async fn update_floating_ip(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(raw): Json<Value>,
) -> Result<Json<Value>, Error> {
    // The app finds the resource first: another project's is 404
    // whatever its body says.
    let ch = changes(raw);
    let m = app::update(&ctx, &auth, &id, ch).await?;
    Ok(Json(json!({ "floatingip": view(&m) })))
}

/// Deletes the floating IP; its address is free at once.
#[utoipa::path(delete, path = "/v2.0/floatingips/{floatingip_id}", tag = "floatingips",
    params(("floatingip_id" = String, Path, description = "The floating IP")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such floating IP, or not visible")))]
pub async fn delete_floating_ip(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An update's body, read into the changes it asks for.
fn changes(raw: Value) -> Result<FloatingIpChanges, Error> {
    let known: Vec<&str> = READ_ONLY.iter().chain(POST).copied().collect();
    let b = Body::new(raw, "floatingip", "PUT", PUT, &known)?;
    Ok(FloatingIpChanges {
        port_id: b.nullable_string("port_id", 36)?,
        fixed_ip_address: b.nullable_string("fixed_ip_address", 64)?.flatten(),
        description: b.string("description", 255)?,
    })
}
