//! `POST /scheduler/v1/select`, `/confirm` and `/release`: Virga's own
//! scheduling for compute (the service role only).

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body;
use crate::app::enforce;
use crate::app::inventory::MAX_INT;
use crate::app::select::spec::{DeviceSpec, GroupPolicy, Near, Spec};
use crate::app::select::{self as app, claim};
use crate::app::site::KINDS;

fn amounts(key: &str, v: &Value) -> Result<BTreeMap<String, i64>, Error> {
    let o = v
        .as_object()
        .ok_or_else(|| body::invalid(format!("'{key}' is not of type 'object'")))?;
    if o.is_empty() {
        return Err(body::invalid(format!(
            "'{key}' does not have enough properties"
        )));
    }
    o.iter()
        .map(|(c, n)| Ok((c.clone(), body::int(c, n, 1, MAX_INT)?)))
        .collect()
}

fn uuids(o: &Map<String, Value>, key: &str) -> Result<Vec<String>, Error> {
    body::strings(o, key)?
        .iter()
        .map(|s| body::uuid(key, s))
        .collect()
}

fn spec(b: &Value) -> Result<Spec, Error> {
    let o = body::object(
        b,
        &[
            "consumers",
            "project_id",
            "user_id",
            "resources",
            "required_traits",
            "forbidden_traits",
            "devices",
            "image_id",
            "image_layers",
            "sites",
            "regions",
            "site_kinds",
            "node_kinds",
            "nodes",
            "ignore_nodes",
            "group",
            "near",
            "consumer_type",
            "confirmed",
        ],
    )?;
    let consumers = uuids(o, "consumers")?;
    if consumers.is_empty() || consumers.len() > 100 {
        return Err(body::invalid(
            "'consumers' must list 1 to 100 consumer uuids",
        ));
    }
    if consumers.iter().collect::<BTreeSet<_>>().len() != consumers.len() {
        return Err(body::invalid("'consumers' has non-unique elements"));
    }
    let mut devices = Vec::new();
    if let Some(list) = o.get("devices") {
        for d in list
            .as_array()
            .ok_or_else(|| body::invalid("'devices' is not of type 'array'"))?
        {
            let d = body::object(d, &["resources", "required_traits"])?;
            devices.push(DeviceSpec {
                resources: amounts("devices.resources", body::required(d, "resources")?)?,
                required: body::strings(d, "required_traits")?.into_iter().collect(),
            });
        }
    }
    let group = match o.get("group") {
        None | Some(Value::Null) => None,
        Some(g) => {
            let g = body::object(g, &["id", "policy"])?;
            let policy = body::one_of(
                "group.policy",
                body::required(g, "policy")?,
                &GroupPolicy::ALL,
            )?;
            let policy = GroupPolicy::parse(&policy).expect("one of ALL");
            Some((
                body::string("group.id", body::required(g, "id")?, 255)?,
                policy,
            ))
        }
    };
    let near = match o.get("near") {
        None | Some(Value::Null) => None,
        Some(n) => {
            let n = body::object(n, &["latitude", "longitude", "max_latency_ms"])?;
            Some(Near {
                latitude: body::number(
                    "near.latitude",
                    body::required(n, "latitude")?,
                    -90.0,
                    90.0,
                )?,
                longitude: body::number(
                    "near.longitude",
                    body::required(n, "longitude")?,
                    -180.0,
                    180.0,
                )?,
                max_latency_ms: n
                    .get("max_latency_ms")
                    .map(|m| body::number("near.max_latency_ms", m, 0.0, 1e6))
                    .transpose()?,
            })
        }
    };
    for (key, list) in [
        ("site_kinds", body::strings(o, "site_kinds")?),
        ("node_kinds", body::strings(o, "node_kinds")?),
    ] {
        if let Some(bad) = list.iter().find(|k| !KINDS.contains(&k.as_str())) {
            return Err(body::invalid(format!(
                "'{bad}' is not one of {} ('{key}')",
                KINDS.join(", ")
            )));
        }
    }
    Ok(Spec {
        consumers,
        project_id: body::string("project_id", body::required(o, "project_id")?, 255)?,
        user_id: body::string("user_id", body::required(o, "user_id")?, 255)?,
        resources: amounts("resources", body::required(o, "resources")?)?,
        required: body::strings(o, "required_traits")?.into_iter().collect(),
        forbidden: body::strings(o, "forbidden_traits")?.into_iter().collect(),
        devices,
        image_id: o
            .get("image_id")
            .map(|i| body::string("image_id", i, 255))
            .transpose()?,
        layers: body::strings(o, "image_layers")?,
        sites: uuids(o, "sites")?,
        regions: body::strings(o, "regions")?,
        site_kinds: body::strings(o, "site_kinds")?,
        node_kinds: body::strings(o, "node_kinds")?,
        nodes: uuids(o, "nodes")?,
        ignore_nodes: uuids(o, "ignore_nodes")?,
        group,
        near,
        consumer_type: match o.get("consumer_type") {
            None => "INSTANCE".into(),
            Some(t) => super::allocation::consumer_type(t)?,
        },
        confirmed: match o.get("confirmed") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(body::invalid("'confirmed' is not of type 'boolean'")),
        },
    })
}

/// Chooses and claims a node for each consumer (instance): the claims
/// hold until confirmed or released, or expire after
/// `scheduler.claim_ttl_secs` (`confirmed: true`: they hold until
/// released, `expires_at` null). 409 `virga.no_valid_node` says how many
/// candidates each step kept.
#[utoipa::path(post, path = "/scheduler/v1/select", tag = "scheduling",
    request_body(content = Object, description = "{consumers, project_id, user_id, consumer_type? (default INSTANCE), resources, required_traits?, forbidden_traits?, devices?: [{resources, required_traits?}], image_id?, image_layers?, sites?, regions?, site_kinds?, node_kinds?, nodes?, ignore_nodes?, group?: {id, policy}, near?: {latitude, longitude, max_latency_ms?}, confirmed?: bool}"),
    security(("token" = [])),
    responses((status = 200, description = "{selections: [{consumer_id, node, site, allocations, expires_at}], alternates}", body = Object),
              (status = 400, description = "A bad spec, an unknown class or trait"),
              (status = 409, description = "No valid node, or a consumer that already holds allocations")))]
pub async fn select(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "select")?;
    let out = app::select(&ctx, &spec(&b)?).await?;
    let selections: Vec<Value> = out
        .selections
        .iter()
        .map(|s| {
            let allocations: Map<String, Value> = s
                .allocation
                .iter()
                .map(|(p, r)| (p.clone(), json!({"resources": r})))
                .collect();
            json!({
                "consumer_id": s.consumer,
                "node": s.node,
                "site": s.site,
                "allocations": allocations,
                "expires_at": s.expires_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            })
        })
        .collect();
    Ok(Json(
        json!({"selections": selections, "alternates": out.alternates}),
    ))
}

fn consumers(b: &Value) -> Result<Vec<String>, Error> {
    let o = body::object(b, &["consumers"])?;
    body::required(o, "consumers")?;
    uuids(o, "consumers")
}

/// Confirms claims (the instances are being built): they no longer
/// expire. 404 for a claim that already expired.
#[utoipa::path(post, path = "/scheduler/v1/confirm", tag = "scheduling",
    request_body(content = Object, description = "{consumers: [uuid]}"),
    security(("token" = [])),
    responses((status = 204, description = "Confirmed"),
              (status = 404, description = "A claim expired or was never made")))]
pub async fn confirm(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(b): Json<Value>,
) -> Result<StatusCode, Error> {
    enforce(&auth, "select")?;
    claim::confirm(&ctx, &consumers(&b)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Releases what consumers hold (the instances are gone, or their build
/// was abandoned); releasing twice is harmless.
#[utoipa::path(post, path = "/scheduler/v1/release", tag = "scheduling",
    request_body(content = Object, description = "{consumers: [uuid]}"),
    security(("token" = [])),
    responses((status = 204, description = "Released")))]
pub async fn release(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(b): Json<Value>,
) -> Result<StatusCode, Error> {
    enforce(&auth, "select")?;
    claim::release(&ctx, &consumers(&b)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves what one consumer holds to another, replacing what that one
/// held (a confirmed move: the instance takes over its migration's
/// claim on the target node); doing it twice is harmless.
#[utoipa::path(post, path = "/scheduler/v1/transfer", tag = "scheduling",
    request_body(content = Object, description = "{from: uuid, to: uuid}"),
    security(("token" = [])),
    responses((status = 204, description = "Transferred"),
              (status = 400, description = "A bad body")))]
pub async fn transfer(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(b): Json<Value>,
) -> Result<StatusCode, Error> {
    enforce(&auth, "select")?;
    let o = body::object(&b, &["from", "to"])?;
    let from = body::uuid(
        "from",
        &body::string("from", body::required(o, "from")?, 36)?,
    )?;
    let to = body::uuid("to", &body::string("to", body::required(o, "to")?, 36)?)?;
    if from == to {
        return Err(body::invalid("'from' and 'to' are the same consumer"));
    }
    claim::transfer(&ctx, &from, &to).await?;
    Ok(StatusCode::NO_CONTENT)
}
