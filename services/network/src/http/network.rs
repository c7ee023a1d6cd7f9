//! `/v2.0/networks`: Neutron's networks (with the provider, external-net,
//! MTU, port-security and standard attributes).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body::Body;
use super::{neutron_time, query};
use crate::app::network::{self as app, NetworkChanges, NetworkDoc, NewNetwork, Segment};

const POST: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "shared",
    "router:external",
    "mtu",
    "port_security_enabled",
    "tenant_id",
    "project_id",
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
];
const PUT: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "shared",
    "router:external",
    "mtu",
    "port_security_enabled",
];
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "subnets",
    "created_at",
    "updated_at",
    "revision_number",
];

/// The network as Neutron shows it; the provider attributes only to
/// those the policy lets see them (admins).
pub fn view(d: &NetworkDoc, provider: bool) -> Value {
    let m = &d.model;
    let mut v = json!({
        "id": m.id, "name": m.name, "description": m.description,
        "tenant_id": m.project_id, "project_id": m.project_id,
        "admin_state_up": m.admin_state_up, "status": m.status, "subnets": d.subnets,
        "shared": m.shared, "router:external": m.external, "mtu": m.mtu,
        "port_security_enabled": m.port_security_enabled,
        "created_at": neutron_time(&m.created_at), "updated_at": neutron_time(&m.updated_at),
        "revision_number": m.revision_number,
    });
    if provider {
        v["provider:network_type"] = json!(m.network_type);
        v["provider:physical_network"] = if m.physical_network.is_empty() {
            Value::Null
        } else {
            json!(m.physical_network)
        };
        v["provider:segmentation_id"] = if m.network_type == "flat" {
            Value::Null
        } else {
            json!(m.segmentation_id)
        };
    }
    v
}

fn sees_provider(auth: &Auth) -> bool {
    auth.allows("network:get_network:provider", &Target::new())
}

/// Lists the networks the caller sees: its project's, shared and
/// external ones (an admin: all), with Neutron's filters, `fields`,
/// sorting and `limit` / `marker` / `page_reverse` pagination.
#[utoipa::path(get, path = "/v2.0/networks", tag = "networks",
    params(("limit" = Option<u64>, Query, description = "Page size"),
           ("marker" = Option<String>, Query, description = "The last network of the previous page"),
           ("sort_key" = Option<String>, Query, description = "An attribute to sort by (repeatable)"),
           ("sort_dir" = Option<String>, Query, description = "asc or desc, one per sort_key"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "Networks", body = Object),
              (status = 400, description = "A bad filter, sort key or limit")))]
pub async fn list_networks(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let q = query::parse(&pairs, app::FILTERS, app::SORT_KEYS)?;
    let docs = app::list(&ctx, &auth, &q).await?;
    let provider = sees_provider(&auth);
    let items = docs
        .iter()
        .map(|d| (d.model.id.clone(), view(d, provider)))
        .collect();
    Ok(Json(query::page(
        "networks",
        "/v2.0/networks",
        &pairs,
        &q,
        items,
    )))
}

/// Creates a network in the caller's project (an admin may name another
/// project, share it, make it external, or give its provider segment:
/// `flat` or `vlan` on a configured physical network, or `vxlan`).
/// Without a segment it gets a free VXLAN id.
#[utoipa::path(post, path = "/v2.0/networks", tag = "networks",
    request_body(content = Object, description = "{\"network\": {...}}"),
    security(("token" = [])),
    responses((status = 201, description = "Created", body = Object),
              (status = 400, description = "A bad attribute"),
              (status = 403, description = "An attribute only admins may set"),
              (status = 409, description = "The provider segment is in use")))]
pub async fn create_network(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(raw): Json<Value>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let b = Body::new(raw, "network", "POST", POST, READ_ONLY)?;
    let segment = if [
        "provider:network_type",
        "provider:physical_network",
        "provider:segmentation_id",
    ]
    .iter()
    .any(|k| b.has(k))
    {
        Some(Segment {
            network_type: b.string("provider:network_type", 16)?,
            physical_network: b
                .nullable_string("provider:physical_network", 64)?
                .flatten(),
            segmentation_id: match b.int("provider:segmentation_id")? {
                Some(i) => Some(i32::try_from(i).map_err(|_| {
                    Error::BadRequest(format!(
                        "Invalid input for operation: segmentation_id out of range, got {i}."
                    ))
                })?),
                None => None,
            },
        })
    } else {
        None
    };
    let new = NewNetwork {
        project_id: b.project()?,
        name: b.string("name", 255)?.unwrap_or_default(),
        description: b.string("description", 255)?.unwrap_or_default(),
        admin_state_up: b.bool("admin_state_up")?.unwrap_or(true),
        shared: b.bool("shared")?.unwrap_or(false),
        external: b.bool("router:external")?.unwrap_or(false),
        mtu: b.int("mtu")?.map(|m| m.clamp(0, i32::MAX as i64) as i32),
        port_security_enabled: b.bool("port_security_enabled")?.unwrap_or(true),
        segment,
    };
    let d = app::create(&ctx, &auth, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"network": view(&d, sees_provider(&auth))})),
    ))
}

/// Shows a network the caller sees; any other is 404.
#[utoipa::path(get, path = "/v2.0/networks/{network_id}", tag = "networks",
    params(("network_id" = String, Path, description = "The network"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "The network", body = Object),
              (status = 404, description = "No such network, or not visible")))]
pub async fn show_network(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let d = app::get(&ctx, &auth, &id).await?;
    let v = query::shown(view(&d, sees_provider(&auth)), &pairs);
    Ok(Json(json!({ "network": v })))
}

/// Changes a network's name, description, state, MTU, port security, or
/// (admins) whether it is shared or external. A network other projects
/// have ports on cannot stop being shared (409).
#[utoipa::path(put, path = "/v2.0/networks/{network_id}", tag = "networks",
    params(("network_id" = String, Path, description = "The network")),
    request_body(content = Object, description = "{\"network\": {...}}"),
    security(("token" = [])),
    responses((status = 200, description = "The changed network", body = Object),
              (status = 400, description = "A bad or read-only attribute"),
              (status = 403, description = "Not allowed"),
              (status = 404, description = "No such network, or not visible"),
              (status = 409, description = "Other projects use the shared network")))]
pub async fn update_network(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(raw): Json<Value>,
) -> Result<Json<Value>, Error> {
    // The app finds the resource first: another project's is 404
    // whatever its body says.
    let ch = changes(raw);
    let d = app::update(&ctx, &auth, &id, ch).await?;
    Ok(Json(json!({"network": view(&d, sees_provider(&auth))})))
}

/// Deletes a network and its subnets; 409 while it has ports.
#[utoipa::path(delete, path = "/v2.0/networks/{network_id}", tag = "networks",
    params(("network_id" = String, Path, description = "The network")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such network, or not visible"),
              (status = 409, description = "Ports remain on it")))]
pub async fn delete_network(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An update's body, read into the changes it asks for.
fn changes(raw: Value) -> Result<NetworkChanges, Error> {
    let known: Vec<&str> = READ_ONLY.iter().chain(POST).copied().collect();
    let b = Body::new(raw, "network", "PUT", PUT, &known)?;
    Ok(NetworkChanges {
        name: b.string("name", 255)?,
        description: b.string("description", 255)?,
        admin_state_up: b.bool("admin_state_up")?,
        shared: b.bool("shared")?,
        external: b.bool("router:external")?,
        mtu: b.int("mtu")?.map(|m| m.clamp(0, i32::MAX as i64) as i32),
        port_security_enabled: b.bool("port_security_enabled")?,
    })
}
