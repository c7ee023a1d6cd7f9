//! `/v2.0/routers`: Neutron's routers, their external gateway (SNAT) and
//! `add_router_interface` / `remove_router_interface`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body::{Body, member};
use super::{neutron_time, query};
use crate::app::fixed_ips::IpRequest;
use crate::app::router::{self as app, GatewayRequest, NewRouter, RouterChanges, RouterDoc};
use crate::app::router_interface::{self, InterfaceInfo};

const POST: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "external_gateway_info",
    "tenant_id",
    "project_id",
];
const PUT: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "external_gateway_info",
];
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "created_at",
    "updated_at",
    "revision_number",
];

pub fn view(d: &RouterDoc) -> Value {
    let m = &d.model;
    let gateway = match (&m.gateway_network_id, &d.gateway) {
        (Some(net), gw) => json!({
            "network_id": net,
            "enable_snat": m.enable_snat,
            "external_fixed_ips": gw.as_ref().map(|p| p.fixed_ips.iter()
                .map(|(s, ip)| json!({"subnet_id": s, "ip_address": ip}))
                .collect::<Vec<_>>()).unwrap_or_default(),
        }),
        (None, _) => Value::Null,
    };
    json!({
        "id": m.id, "name": m.name, "description": m.description,
        "tenant_id": m.project_id, "project_id": m.project_id,
        "admin_state_up": m.admin_state_up, "status": m.status,
        "external_gateway_info": gateway,
        "created_at": neutron_time(&m.created_at), "updated_at": neutron_time(&m.updated_at),
        "revision_number": m.revision_number,
    })
}

/// `external_gateway_info`: `null` (none), or an object with `network_id`.
fn gateway(b: &Body) -> Result<Option<Option<GatewayRequest>>, Error> {
    let bad = |why: &str| {
        Error::BadRequest(format!(
            "Invalid input for external_gateway_info. Reason: {why}."
        ))
    };
    match b.get("external_gateway_info") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Object(m)) if m.is_empty() => Ok(Some(None)),
        Some(Value::Object(m)) => {
            for k in m.keys() {
                if !["network_id", "enable_snat", "external_fixed_ips"].contains(&k.as_str()) {
                    return Err(bad(&format!("Unrecognized attribute(s) '{k}'")));
                }
            }
            let network_id = m
                .get("network_id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("network_id is required"))?
                .to_owned();
            let enable_snat = match m.get("enable_snat") {
                None => None,
                Some(Value::Bool(v)) => Some(*v),
                Some(v) => return Err(bad(&format!("'{v}' cannot be converted to boolean"))),
            };
            let fixed_ips = match m.get("external_fixed_ips") {
                None => None,
                Some(Value::Array(list)) => Some(
                    list.iter()
                        .map(|f| match f {
                            Value::Object(o) => Ok(IpRequest {
                                subnet_id: member(o, "subnet_id"),
                                ip_address: member(o, "ip_address"),
                            }),
                            _ => Err(bad("external_fixed_ips must be a list of objects")),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                Some(_) => return Err(bad("external_fixed_ips must be a list")),
            };
            Ok(Some(Some(GatewayRequest {
                network_id,
                enable_snat,
                fixed_ips,
            })))
        }
        Some(v) => Err(bad(&format!("'{v}' is not a dictionary"))),
    }
}

/// Lists the caller's routers (an admin: all).
#[utoipa::path(get, path = "/v2.0/routers", tag = "routers",
    params(("limit" = Option<u64>, Query, description = "Page size"),
           ("marker" = Option<String>, Query, description = "The last router of the previous page"),
           ("sort_key" = Option<String>, Query, description = "An attribute to sort by (repeatable)"),
           ("sort_dir" = Option<String>, Query, description = "asc or desc, one per sort_key"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "Routers", body = Object),
              (status = 400, description = "A bad filter, sort key or limit")))]
pub async fn list_routers(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let q = query::parse(&pairs, app::FILTERS, app::SORT_KEYS)?;
    let docs = app::list(&ctx, &auth, &q).await?;
    let items = docs.iter().map(|d| (d.model.id.clone(), view(d))).collect();
    Ok(Json(query::page(
        "routers",
        "/v2.0/routers",
        &pairs,
        &q,
        items,
    )))
}

/// Creates a router, with an external gateway (a port on an external
/// network, SNAT on unless an admin turns it off) if asked.
#[utoipa::path(post, path = "/v2.0/routers", tag = "routers",
    request_body(content = Object, description = "{\"router\": {...}}"),
    security(("token" = [])),
    responses((status = 201, description = "Created", body = Object),
              (status = 400, description = "A bad attribute, or the network is not external"),
              (status = 404, description = "No such external network"),
              (status = 409, description = "Over quota")))]
pub async fn create_router(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(raw): Json<Value>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let b = Body::new(raw, "router", "POST", POST, READ_ONLY)?;
    let new = NewRouter {
        project_id: b.project()?,
        name: b.string("name", 255)?.unwrap_or_default(),
        description: b.string("description", 255)?.unwrap_or_default(),
        admin_state_up: b.bool("admin_state_up")?.unwrap_or(true),
        gateway: gateway(&b)?.flatten(),
    };
    let d = app::create(&ctx, &auth, new).await?;
    Ok((StatusCode::CREATED, Json(json!({"router": view(&d)}))))
}

/// Shows one of the caller's routers; any other is 404.
#[utoipa::path(get, path = "/v2.0/routers/{router_id}", tag = "routers",
    params(("router_id" = String, Path, description = "The router"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "The router", body = Object),
              (status = 404, description = "No such router, or not visible")))]
pub async fn show_router(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let d = app::get(&ctx, &auth, &id).await?;
    let v = query::shown(view(&d), &pairs);
    Ok(Json(json!({ "router": v })))
}

/// Changes a router's name, state or external gateway (`null` removes it;
/// not while floating IPs route through it).
#[utoipa::path(put, path = "/v2.0/routers/{router_id}", tag = "routers",
    params(("router_id" = String, Path, description = "The router")),
    request_body(content = Object, description = "{\"router\": {...}}"),
    security(("token" = [])),
    responses((status = 200, description = "The changed router", body = Object),
              (status = 400, description = "A bad or read-only attribute"),
              (status = 404, description = "No such router, or not visible"),
              (status = 409, description = "Floating IPs use the gateway")))]
pub async fn update_router(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(raw): Json<Value>,
) -> Result<Json<Value>, Error> {
    // The app finds the resource first: another project's is 404
    // whatever its body says.
    let ch = changes(raw);
    let d = app::update(&ctx, &auth, &id, ch).await?;
    Ok(Json(json!({ "router": view(&d) })))
}

/// Deletes a router (and its gateway port); 409 while it has interfaces.
#[utoipa::path(delete, path = "/v2.0/routers/{router_id}", tag = "routers",
    params(("router_id" = String, Path, description = "The router")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such router, or not visible"),
              (status = 409, description = "Interfaces remain")))]
pub async fn delete_router(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn interface_view(i: &InterfaceInfo) -> Value {
    json!({
        "id": i.router_id, "tenant_id": i.project_id, "project_id": i.project_id,
        "port_id": i.port_id, "network_id": i.network_id,
        "subnet_id": i.subnet_ids.first(), "subnet_ids": i.subnet_ids,
    })
}

fn interface_body(raw: Value) -> Result<(Option<String>, Option<String>), Error> {
    let Value::Object(m) = raw else {
        return Err(Error::BadRequest("Body contains invalid data".into()));
    };
    let m: Map<String, Value> = m;
    for k in m.keys() {
        if k != "subnet_id" && k != "port_id" {
            return Err(Error::BadRequest(format!(
                "Unrecognized attribute(s) '{k}'"
            )));
        }
    }
    Ok((member(&m, "subnet_id"), member(&m, "port_id")))
}

/// Adds an interface: on a subnet (a port taking the subnet's gateway
/// address) or an unused port of the caller's. A subnet the router is on
/// already, or one overlapping one it is on, is 400.
#[utoipa::path(put, path = "/v2.0/routers/{router_id}/add_router_interface", tag = "routers",
    params(("router_id" = String, Path, description = "The router")),
    request_body(content = Object, description = "{\"subnet_id\": ...} or {\"port_id\": ...}"),
    security(("token" = [])),
    responses((status = 200, description = "The interface", body = Object),
              (status = 400, description = "Already on the subnet, overlapping, or no gateway"),
              (status = 404, description = "No such router, subnet or port"),
              (status = 409, description = "The port is in use, or the gateway address is taken")))]
pub async fn add_router_interface(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(raw): Json<Value>,
) -> Result<Json<Value>, Error> {
    let (subnet, port) = interface_body(raw)?;
    let i = router_interface::add(&ctx, &auth, &id, subnet, port).await?;
    Ok(Json(interface_view(&i)))
}

/// Removes an interface by subnet or port (its port is deleted); not one
/// floating IPs route through (409).
#[utoipa::path(put, path = "/v2.0/routers/{router_id}/remove_router_interface", tag = "routers",
    params(("router_id" = String, Path, description = "The router")),
    request_body(content = Object, description = "{\"subnet_id\": ...} or {\"port_id\": ...}"),
    security(("token" = [])),
    responses((status = 200, description = "The interface removed", body = Object),
              (status = 404, description = "No such router or interface"),
              (status = 409, description = "Floating IPs route through it")))]
pub async fn remove_router_interface(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(raw): Json<Value>,
) -> Result<Json<Value>, Error> {
    let (subnet, port) = interface_body(raw)?;
    let i = router_interface::remove(&ctx, &auth, &id, subnet, port).await?;
    Ok(Json(interface_view(&i)))
}

/// An update's body, read into the changes it asks for.
fn changes(raw: Value) -> Result<RouterChanges, Error> {
    let known: Vec<&str> = READ_ONLY.iter().chain(POST).copied().collect();
    let b = Body::new(raw, "router", "PUT", PUT, &known)?;
    Ok(RouterChanges {
        name: b.string("name", 255)?,
        description: b.string("description", 255)?,
        admin_state_up: b.bool("admin_state_up")?,
        gateway: gateway(&b)?,
    })
}
