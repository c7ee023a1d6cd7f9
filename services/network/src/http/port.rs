//! `/v2.0/ports`: Neutron's ports, with fixed IPs, MAC, device, binding,
//! allowed address pairs and port security.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body::{Body, member};
use super::{neutron_time, query};
use crate::app::fixed_ips::IpRequest;
use crate::app::port::{self as app, AddressPair, NewPort, PortChanges, PortDoc};

const POST: &[&str] = &[
    "name",
    "description",
    "network_id",
    "admin_state_up",
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "port_security_enabled",
    "binding:host_id",
    "binding:vnic_type",
    "binding:profile",
    "allowed_address_pairs",
    "security_groups",
    "tenant_id",
    "project_id",
];
const PUT: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "port_security_enabled",
    "binding:host_id",
    "binding:vnic_type",
    "binding:profile",
    "allowed_address_pairs",
    "security_groups",
];
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "binding:vif_type",
    "binding:vif_details",
    "created_at",
    "updated_at",
    "revision_number",
];

/// The port as Neutron shows it; the binding attributes only to those
/// the policy lets see them (admins and services).
pub fn view(d: &PortDoc, binding: bool) -> Value {
    let m = &d.model;
    let fixed: Vec<Value> = d
        .fixed_ips
        .iter()
        .map(|(s, ip)| json!({"subnet_id": s, "ip_address": ip}))
        .collect();
    let mut v = json!({
        "id": m.id, "name": m.name, "description": m.description,
        "tenant_id": m.project_id, "project_id": m.project_id, "network_id": m.network_id,
        "mac_address": m.mac_address, "admin_state_up": m.admin_state_up, "status": m.status,
        "device_id": m.device_id, "device_owner": m.device_owner, "fixed_ips": fixed,
        "allowed_address_pairs": serde_json::from_str::<Value>(&m.allowed_address_pairs).unwrap_or(json!([])),
        "port_security_enabled": m.port_security_enabled,
        "security_groups": d.security_groups,
        "created_at": neutron_time(&m.created_at), "updated_at": neutron_time(&m.updated_at),
        "revision_number": m.revision_number,
    });
    if binding {
        let bound = !m.binding_host_id.is_empty();
        v["binding:host_id"] = json!(m.binding_host_id);
        v["binding:vnic_type"] = json!(m.binding_vnic_type);
        v["binding:profile"] =
            serde_json::from_str::<Value>(&m.binding_profile).unwrap_or(json!({}));
        v["binding:vif_type"] = json!(if bound { "bridge" } else { "unbound" });
        v["binding:vif_details"] = if bound {
            json!({"port_filter": true, "connectivity": "l2",
                   "bridge_name": virga_protocol::network::bridge_name(&m.network_id)})
        } else {
            json!({})
        };
    }
    v
}

fn sees_binding(auth: &Auth) -> bool {
    auth.allows("network:get_port:binding", &Target::new())
}

fn fixed_ips(b: &Body) -> Result<Option<Vec<IpRequest>>, Error> {
    Ok(b.records("fixed_ips", &[], &["subnet_id", "ip_address"])?
        .map(|r| {
            r.iter()
                .map(|m| IpRequest {
                    subnet_id: member(m, "subnet_id"),
                    ip_address: member(m, "ip_address"),
                })
                .collect()
        }))
}

fn pairs(b: &Body) -> Result<Option<Vec<AddressPair>>, Error> {
    Ok(
        b.records("allowed_address_pairs", &["ip_address"], &["mac_address"])?
            .map(|r| {
                r.iter()
                    .map(|m| {
                        (
                            member(m, "ip_address").unwrap_or_default(),
                            member(m, "mac_address"),
                        )
                    })
                    .collect()
            }),
    )
}

fn profile(b: &Body) -> Result<Option<Value>, Error> {
    match b.get("binding:profile") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(Value::Object(Map::new()))),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(v) => Err(Error::BadRequest(format!(
            "Invalid input for binding:profile. Reason: '{v}' is not a dictionary."
        ))),
    }
}

/// Lists the ports the caller sees (its project's, and those on its
/// networks), with Neutron's filters (`fixed_ips=ip_address=...` and
/// `fixed_ips=subnet_id=...` among them), `fields`, sorting and pagination.
#[utoipa::path(get, path = "/v2.0/ports", tag = "ports",
    params(("limit" = Option<u64>, Query, description = "Page size"),
           ("marker" = Option<String>, Query, description = "The last port of the previous page"),
           ("sort_key" = Option<String>, Query, description = "An attribute to sort by (repeatable)"),
           ("sort_dir" = Option<String>, Query, description = "asc or desc, one per sort_key"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "Ports", body = Object),
              (status = 400, description = "A bad filter, sort key or limit")))]
pub async fn list_ports(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let q = query::parse(&pairs, app::FILTERS, app::SORT_KEYS)?;
    let docs = app::list(&ctx, &auth, &q).await?;
    let binding = sees_binding(&auth);
    let items = docs
        .iter()
        .map(|d| (d.model.id.clone(), view(d, binding)))
        .collect();
    Ok(Json(query::page("ports", "/v2.0/ports", &pairs, &q, items)))
}

/// Creates a port on a network the caller owns, or on a shared one. With
/// no `fixed_ips` it takes one IPv4 address, one stateful IPv6 address
/// and the SLAAC address of every SLAAC subnet; an address already held
/// is 409, one outside the network's subnets 400.
#[utoipa::path(post, path = "/v2.0/ports", tag = "ports",
    request_body(content = Object, description = "{\"port\": {...}}"),
    security(("token" = [])),
    responses((status = 201, description = "Created", body = Object),
              (status = 400, description = "A bad attribute or address"),
              (status = 403, description = "An attribute the caller may not set"),
              (status = 404, description = "No such network"),
              (status = 409, description = "The address or MAC is in use, or no address is left")))]
pub async fn create_port(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(raw): Json<Value>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let b = Body::new(raw, "port", "POST", POST, READ_ONLY)?;
    let new = NewPort {
        project_id: b.project()?,
        network_id: b.string("network_id", 36)?.ok_or_else(|| {
            Error::BadRequest(
                "Failed to parse request. Required attribute 'network_id' not specified".into(),
            )
        })?,
        name: b.string("name", 255)?.unwrap_or_default(),
        description: b.string("description", 255)?.unwrap_or_default(),
        admin_state_up: b.bool("admin_state_up")?.unwrap_or(true),
        mac_address: b.string("mac_address", 32)?,
        fixed_ips: fixed_ips(&b)?,
        device_id: b.string("device_id", 255)?.unwrap_or_default(),
        device_owner: b.string("device_owner", 255)?.unwrap_or_default(),
        port_security_enabled: b.bool("port_security_enabled")?,
        binding_host_id: b.string("binding:host_id", 255)?,
        binding_vnic_type: b.string("binding:vnic_type", 32)?,
        binding_profile: profile(&b)?,
        allowed_address_pairs: pairs(&b)?,
        security_groups: b.strings("security_groups")?,
    };
    let d = app::create(&ctx, &auth, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"port": view(&d, sees_binding(&auth))})),
    ))
}

/// Shows a port the caller sees; any other is 404.
#[utoipa::path(get, path = "/v2.0/ports/{port_id}", tag = "ports",
    params(("port_id" = String, Path, description = "The port"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "The port", body = Object),
              (status = 404, description = "No such port, or not visible")))]
pub async fn show_port(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let d = app::get(&ctx, &auth, &id).await?;
    let v = query::shown(view(&d, sees_binding(&auth)), &pairs);
    Ok(Json(json!({ "port": v })))
}

/// Changes a port. `fixed_ips` is the whole new list: addresses no longer
/// named are freed, new ones taken, in one transaction.
#[utoipa::path(put, path = "/v2.0/ports/{port_id}", tag = "ports",
    params(("port_id" = String, Path, description = "The port")),
    request_body(content = Object, description = "{\"port\": {...}}"),
    security(("token" = [])),
    responses((status = 200, description = "The changed port", body = Object),
              (status = 400, description = "A bad or read-only attribute"),
              (status = 403, description = "An attribute the caller may not set"),
              (status = 404, description = "No such port, or not visible"),
              (status = 409, description = "The address or MAC is in use")))]
pub async fn update_port(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(raw): Json<Value>,
) -> Result<Json<Value>, Error> {
    // The app finds the resource first: another project's is 404
    // whatever its body says.
    let ch = changes(raw);
    let d = app::update(&ctx, &auth, &id, ch).await?;
    Ok(Json(json!({"port": view(&d, sees_binding(&auth))})))
}

/// Deletes a port; its addresses are free at once.
#[utoipa::path(delete, path = "/v2.0/ports/{port_id}", tag = "ports",
    params(("port_id" = String, Path, description = "The port")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such port, or not visible")))]
pub async fn delete_port(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An update's body, read into the changes it asks for.
fn changes(raw: Value) -> Result<PortChanges, Error> {
    let known: Vec<&str> = READ_ONLY.iter().chain(POST).copied().collect();
    let b = Body::new(raw, "port", "PUT", PUT, &known)?;
    Ok(PortChanges {
        name: b.string("name", 255)?,
        description: b.string("description", 255)?,
        admin_state_up: b.bool("admin_state_up")?,
        mac_address: b.string("mac_address", 32)?,
        fixed_ips: fixed_ips(&b)?,
        device_id: b.string("device_id", 255)?,
        device_owner: b.string("device_owner", 255)?,
        port_security_enabled: b.bool("port_security_enabled")?,
        binding_host_id: b.string("binding:host_id", 255)?,
        binding_vnic_type: b.string("binding:vnic_type", 32)?,
        binding_profile: profile(&b)?,
        allowed_address_pairs: pairs(&b)?,
        security_groups: b.strings("security_groups")?,
    })
}
