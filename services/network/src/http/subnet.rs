//! `/v2.0/subnets`: Neutron's subnets, IPv4 and IPv6 (SLAAC,
//! DHCPv6-stateful and -stateless), with pools, DNS servers and routes.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body::{Body, member};
use super::{neutron_time, query};
use crate::app::subnet::{self as app, Gateway, NewSubnet, SubnetChanges};
use crate::db::subnet::Model;

const POST: &[&str] = &[
    "name",
    "description",
    "network_id",
    "ip_version",
    "cidr",
    "gateway_ip",
    "allocation_pools",
    "dns_nameservers",
    "host_routes",
    "enable_dhcp",
    "ipv6_ra_mode",
    "ipv6_address_mode",
    "tenant_id",
    "project_id",
];
const PUT: &[&str] = &[
    "name",
    "description",
    "gateway_ip",
    "allocation_pools",
    "dns_nameservers",
    "host_routes",
    "enable_dhcp",
];
const READ_ONLY: &[&str] = &[
    "id",
    "subnetpool_id",
    "created_at",
    "updated_at",
    "revision_number",
];

fn json_list(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or(Value::Array(Vec::new()))
}

pub fn view(m: &Model) -> Value {
    json!({
        "id": m.id, "name": m.name, "description": m.description,
        "tenant_id": m.project_id, "project_id": m.project_id, "network_id": m.network_id,
        "ip_version": m.ip_version, "cidr": m.cidr, "gateway_ip": m.gateway_ip,
        "allocation_pools": json_list(&m.allocation_pools),
        "dns_nameservers": json_list(&m.dns_nameservers),
        "host_routes": json_list(&m.host_routes),
        "enable_dhcp": m.enable_dhcp, "ipv6_ra_mode": m.ipv6_ra_mode,
        "ipv6_address_mode": m.ipv6_address_mode, "subnetpool_id": null,
        "created_at": neutron_time(&m.created_at), "updated_at": neutron_time(&m.updated_at),
        "revision_number": m.revision_number,
    })
}

fn gateway(b: &Body) -> Result<Option<Gateway>, Error> {
    Ok(match b.nullable_string("gateway_ip", 64)? {
        None => None,
        Some(None) => Some(Gateway::None),
        Some(Some(g)) => Some(Gateway::Given(g)),
    })
}

fn pools(b: &Body) -> Result<Option<Vec<(String, String)>>, Error> {
    Ok(b.records("allocation_pools", &["start", "end"], &[])?
        .map(|r| {
            r.iter()
                .map(|p| {
                    (
                        member(p, "start").unwrap_or_default(),
                        member(p, "end").unwrap_or_default(),
                    )
                })
                .collect()
        }))
}

fn routes(b: &Body) -> Result<Option<Vec<(String, String)>>, Error> {
    Ok(b.records("host_routes", &["destination", "nexthop"], &[])?
        .map(|r| {
            r.iter()
                .map(|p| {
                    (
                        member(p, "destination").unwrap_or_default(),
                        member(p, "nexthop").unwrap_or_default(),
                    )
                })
                .collect()
        }))
}

/// Lists the subnets of the networks the caller sees, with Neutron's
/// filters, `fields`, sorting and pagination.
#[utoipa::path(get, path = "/v2.0/subnets", tag = "subnets",
    params(("limit" = Option<u64>, Query, description = "Page size"),
           ("marker" = Option<String>, Query, description = "The last subnet of the previous page"),
           ("sort_key" = Option<String>, Query, description = "An attribute to sort by (repeatable)"),
           ("sort_dir" = Option<String>, Query, description = "asc or desc, one per sort_key"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "Subnets", body = Object),
              (status = 400, description = "A bad filter, sort key or limit")))]
pub async fn list_subnets(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let q = query::parse(&pairs, app::FILTERS, app::SORT_KEYS)?;
    let rows = app::list(&ctx, &auth, &q).await?;
    let items = rows.iter().map(|m| (m.id.clone(), view(m))).collect();
    Ok(Json(query::page(
        "subnets",
        "/v2.0/subnets",
        &pairs,
        &q,
        items,
    )))
}

/// Creates a subnet on a network the caller owns (or, admin, any). The
/// gateway defaults to the first host address (`null`: none), the pools
/// to the rest of the CIDR. Overlapping another subnet of the network,
/// a pool outside the CIDR or over the gateway, or a bad IPv6 mode is 400.
#[utoipa::path(post, path = "/v2.0/subnets", tag = "subnets",
    request_body(content = Object, description = "{\"subnet\": {...}}"),
    security(("token" = [])),
    responses((status = 201, description = "Created", body = Object),
              (status = 400, description = "A bad attribute, or overlapping CIDRs"),
              (status = 403, description = "Not the network's owner"),
              (status = 404, description = "No such network"),
              (status = 409, description = "The gateway is inside a pool")))]
pub async fn create_subnet(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(raw): Json<Value>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let b = Body::new(raw, "subnet", "POST", POST, READ_ONLY)?;
    let required = |k: &str| {
        Error::BadRequest(format!(
            "Failed to parse request. Required attribute '{k}' not specified"
        ))
    };
    let new = NewSubnet {
        project_id: b.project()?,
        name: b.string("name", 255)?.unwrap_or_default(),
        description: b.string("description", 255)?.unwrap_or_default(),
        network_id: b
            .string("network_id", 36)?
            .ok_or_else(|| required("network_id"))?,
        ip_version: b.int("ip_version")?.ok_or_else(|| required("ip_version"))?,
        cidr: b.string("cidr", 64)?.ok_or_else(|| required("cidr"))?,
        gateway_ip: gateway(&b)?.unwrap_or(Gateway::Default),
        allocation_pools: pools(&b)?,
        dns_nameservers: b.strings("dns_nameservers")?.unwrap_or_default(),
        host_routes: routes(&b)?.unwrap_or_default(),
        enable_dhcp: b.bool("enable_dhcp")?.unwrap_or(true),
        ipv6_ra_mode: b.nullable_string("ipv6_ra_mode", 16)?.flatten(),
        ipv6_address_mode: b.nullable_string("ipv6_address_mode", 16)?.flatten(),
    };
    let m = app::create(&ctx, &auth, new).await?;
    Ok((StatusCode::CREATED, Json(json!({ "subnet": view(&m) }))))
}

/// Shows a subnet of a network the caller sees; any other is 404.
#[utoipa::path(get, path = "/v2.0/subnets/{subnet_id}", tag = "subnets",
    params(("subnet_id" = String, Path, description = "The subnet"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "The subnet", body = Object),
              (status = 404, description = "No such subnet, or not visible")))]
pub async fn show_subnet(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let (m, _) = app::visible(&ctx, &auth, &id).await?;
    let v = query::shown(view(&m), &pairs);
    Ok(Json(json!({ "subnet": v })))
}

/// Changes a subnet's name, description, gateway, pools, DNS servers,
/// routes or DHCP; addresses already handed out stay.
#[utoipa::path(put, path = "/v2.0/subnets/{subnet_id}", tag = "subnets",
    params(("subnet_id" = String, Path, description = "The subnet")),
    request_body(content = Object, description = "{\"subnet\": {...}}"),
    security(("token" = [])),
    responses((status = 200, description = "The changed subnet", body = Object),
              (status = 400, description = "A bad or read-only attribute"),
              (status = 404, description = "No such subnet, or not visible"),
              (status = 409, description = "The new gateway is in a pool or in use")))]
pub async fn update_subnet(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(raw): Json<Value>,
) -> Result<Json<Value>, Error> {
    // The app finds the resource first: another project's is 404
    // whatever its body says.
    let ch = changes(raw);
    let m = app::update(&ctx, &auth, &id, ch).await?;
    Ok(Json(json!({ "subnet": view(&m) })))
}

/// Deletes a subnet; 409 while a port has an address from it.
#[utoipa::path(delete, path = "/v2.0/subnets/{subnet_id}", tag = "subnets",
    params(("subnet_id" = String, Path, description = "The subnet")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such subnet, or not visible"),
              (status = 409, description = "Ports hold addresses from it")))]
pub async fn delete_subnet(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An update's body, read into the changes it asks for.
fn changes(raw: Value) -> Result<SubnetChanges, Error> {
    let known: Vec<&str> = READ_ONLY.iter().chain(POST).copied().collect();
    let b = Body::new(raw, "subnet", "PUT", PUT, &known)?;
    Ok(SubnetChanges {
        name: b.string("name", 255)?,
        description: b.string("description", 255)?,
        gateway_ip: gateway(&b)?,
        allocation_pools: pools(&b)?,
        dns_nameservers: b.strings("dns_nameservers")?,
        host_routes: routes(&b)?,
        enable_dhcp: b.bool("enable_dhcp")?,
    })
}
