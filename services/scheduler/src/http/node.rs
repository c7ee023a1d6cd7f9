//! `/scheduler/v1/nodes`: edge nodes' registration (the desired state an
//! agent reports), heartbeats, listing with health, and disabling.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body;
use super::inventory::{FIELDS, parse};
use crate::app::enforce;
use crate::app::inventory::Inventory;
use crate::app::node::{self as app, ARCHES, Device, Heartbeat, Model, Registration};
use crate::app::site::KINDS;
use crate::app::versions::MAX;
use crate::db::node::Flag;

fn view(ctx: &ServiceContext, n: &Model) -> Value {
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    let stale = ctx.config().scheduler.node_stale_secs;
    json!({
        "uuid": n.uuid,
        "site": n.site_uuid,
        "hostname": n.hostname,
        "kind": n.kind,
        "arch": n.arch,
        "labels": parse(&n.labels),
        "facts": parse(&n.facts),
        "state": app::state(n, stale, chrono::Utc::now()),
        "disabled": n.disabled,
        "forced_down": n.forced_down,
        "last_seen": n.last_seen.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        "load": parse(&n.load),
        "images": parse(&n.images),
        "layers": parse(&n.layers),
    })
}

fn inventories(v: &Value) -> Result<BTreeMap<String, Inventory>, Error> {
    let obj = v
        .as_object()
        .ok_or_else(|| body::invalid("'inventories' is not of type 'object'"))?;
    obj.iter()
        .map(|(class, i)| Ok((class.clone(), parse(body::object(i, &FIELDS)?, MAX)?)))
        .collect()
}

fn traits(o: &Map<String, Value>) -> Result<BTreeSet<String>, Error> {
    Ok(body::strings(o, "traits")?.into_iter().collect())
}

fn registration(b: &Value) -> Result<Registration, Error> {
    let outer = body::object(b, &["node"])?;
    let n = body::object(
        body::required(outer, "node")?,
        &[
            "site",
            "hostname",
            "kind",
            "arch",
            "labels",
            "inventories",
            "traits",
            "devices",
            "facts",
        ],
    )?;
    let arches: Vec<&str> = ARCHES.iter().map(|(a, _)| *a).collect();
    let labels = match n.get("labels") {
        None => BTreeMap::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| Ok((k.clone(), body::string(k, v, 255)?)))
            .collect::<Result<_, Error>>()?,
        Some(_) => return Err(body::invalid("'labels' is not of type 'object'")),
    };
    let mut devices = Vec::new();
    if let Some(list) = n.get("devices") {
        let list = list
            .as_array()
            .ok_or_else(|| body::invalid("'devices' is not of type 'array'"))?;
        for d in list {
            let d = body::object(d, &["name", "inventories", "traits"])?;
            devices.push(Device {
                name: body::string("devices.name", body::required(d, "name")?, 100)?,
                inventories: inventories(body::required(d, "inventories")?)?,
                traits: traits(d)?,
            });
        }
    }
    Ok(Registration {
        site: body::uuid(
            "site",
            body::required(n, "site")?.as_str().unwrap_or_default(),
        )?,
        hostname: body::string("hostname", body::required(n, "hostname")?, 100)?,
        kind: body::one_of("kind", body::required(n, "kind")?, &KINDS)?,
        arch: body::one_of("arch", body::required(n, "arch")?, &arches)?,
        labels,
        inventories: inventories(body::required(n, "inventories")?)?,
        traits: traits(n)?,
        devices,
        facts: match n.get("facts") {
            None | Some(Value::Null) => Value::Null,
            Some(f @ Value::Object(_)) => f.clone(),
            Some(_) => return Err(body::invalid("'facts' is not of type 'object'")),
        },
    })
}

/// Nodes with their state (`up`, `down`, `disabled`), optionally of one site.
#[utoipa::path(get, path = "/scheduler/v1/nodes", tag = "nodes",
    params(("site" = Option<String>, Query, description = "Only this site's")),
    security(("token" = [])),
    responses((status = 200, description = "The nodes", body = Object)))]
pub async fn list_nodes(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "nodes")?;
    body::query(&q, &["site"])?;
    let all = app::list(&ctx, body::param(&q, "site")).await?;
    Ok(Json(
        json!({"nodes": all.iter().map(|n| view(&ctx, n)).collect::<Vec<_>>()}),
    ))
}

/// Registers a node, or re-registers it with what it has now
/// (idempotent): its provider under its site, inventories, traits and
/// devices are made to match.
#[utoipa::path(put, path = "/scheduler/v1/nodes/{uuid}", tag = "nodes",
    params(("uuid" = String, Path, description = "The node")),
    request_body(content = Object, description = "{node: {site, hostname, kind, arch, labels?, inventories, traits?, devices?: [{name, inventories, traits?}], facts?}}"),
    security(("token" = [])),
    responses((status = 200, description = "The node", body = Object),
              (status = 400, description = "A bad body, an unknown site, class or trait"),
              (status = 409, description = "Registered at another site, or removing what is allocated")))]
pub async fn register_node(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "nodes")?;
    let uuid = body::uuid("uuid", &uuid)?;
    let n = app::register(&ctx, &uuid, registration(&b)?).await?;
    Ok(Json(json!({"node": view(&ctx, &n)})))
}

/// Shows a node.
#[utoipa::path(get, path = "/scheduler/v1/nodes/{uuid}", tag = "nodes",
    params(("uuid" = String, Path, description = "The node")),
    security(("token" = [])),
    responses((status = 200, description = "The node", body = Object),
              (status = 404, description = "No such node")))]
pub async fn show_node(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "nodes")?;
    Ok(Json(
        json!({"node": view(&ctx, &app::get(&ctx, &uuid).await?)}),
    ))
}

/// Deregisters a node and its devices (409 while they hold allocations).
#[utoipa::path(delete, path = "/scheduler/v1/nodes/{uuid}", tag = "nodes",
    params(("uuid" = String, Path, description = "The node")),
    security(("token" = [])),
    responses((status = 204, description = "Deregistered"),
              (status = 404, description = "No such node"),
              (status = 409, description = "It holds allocations")))]
pub async fn delete_node(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
) -> Result<StatusCode, Error> {
    enforce(&auth, "nodes")?;
    app::delete(&ctx, &uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A heartbeat: the node is alive, with its load and the images and OCI
/// layers its cache holds.
#[utoipa::path(post, path = "/scheduler/v1/nodes/{uuid}/heartbeat", tag = "nodes",
    params(("uuid" = String, Path, description = "The node")),
    request_body(content = Object, description = "{load?: {...}, images?: [image id], layers?: [sha256:...]}"),
    security(("token" = [])),
    responses((status = 200, description = "The node", body = Object),
              (status = 400, description = "A bad body"),
              (status = 404, description = "No such node")))]
pub async fn heartbeat(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "nodes")?;
    let o = body::object(&b, &["load", "images", "layers"])?;
    let load = match o.get("load") {
        None => json!({}),
        Some(l @ Value::Object(_)) => l.clone(),
        Some(_) => return Err(body::invalid("'load' is not of type 'object'")),
    };
    let hb = Heartbeat {
        load,
        images: body::strings(o, "images")?,
        layers: body::strings(o, "layers")?,
    };
    Ok(Json(
        json!({"node": view(&ctx, &app::heartbeat(&ctx, &uuid, hb).await?)}),
    ))
}

/// Takes a node out of scheduling (maintenance), or puts it back.
#[utoipa::path(put, path = "/scheduler/v1/nodes/{uuid}/disabled", tag = "nodes",
    params(("uuid" = String, Path, description = "The node")),
    request_body(content = Object, description = "{disabled: bool}"),
    security(("token" = [])),
    responses((status = 200, description = "The node", body = Object),
              (status = 404, description = "No such node")))]
pub async fn set_disabled(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    flag(&auth, &ctx, &uuid, &b, Flag::Disabled, "disabled").await
}

async fn flag(
    auth: &Auth,
    ctx: &ServiceContext,
    uuid: &str,
    b: &Value,
    flag: Flag,
    key: &str,
) -> Result<Json<Value>, Error> {
    enforce(auth, "nodes")?;
    let o = body::object(b, &[key])?;
    let on = body::required(o, key)?
        .as_bool()
        .ok_or_else(|| body::invalid(format!("'{key}' is not of type 'boolean'")))?;
    let n = app::set_flag(ctx, uuid, flag, on).await?;
    Ok(Json(json!({"node": view(ctx, &n)})))
}

/// Forces a node down (its state is `down` whatever its heartbeats say:
/// its servers can be evacuated), or lifts that.
#[utoipa::path(put, path = "/scheduler/v1/nodes/{uuid}/forced_down", tag = "nodes",
    params(("uuid" = String, Path, description = "The node")),
    request_body(content = Object, description = "{forced_down: bool}"),
    security(("token" = [])),
    responses((status = 200, description = "The node", body = Object),
              (status = 400, description = "forced_down missing or not a boolean"),
              (status = 404, description = "No such node")))]
pub async fn set_forced_down(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    flag(&auth, &ctx, &uuid, &b, Flag::ForcedDown, "forced_down").await
}
