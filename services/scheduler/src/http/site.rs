//! `/scheduler/v1/sites`: Virga's edge sites (each the root provider of
//! its tree) with kind, region, location and network quality.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body;
use crate::app::enforce;
use crate::app::site::{self as app, KINDS, Model, Quality, SiteSpec};

pub fn view(m: &Model, name: &str) -> Value {
    let location = match (m.latitude, m.longitude) {
        (Some(lat), Some(lon)) => json!({"latitude": lat, "longitude": lon}),
        _ => Value::Null,
    };
    let quality = match (m.latency_ms, m.bandwidth_mbps, m.packet_loss, m.quality_at) {
        (Some(l), Some(b), Some(p), Some(at)) => json!({
            "latency_ms": l, "bandwidth_mbps": b, "packet_loss": p,
            "measured_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}),
        _ => Value::Null,
    };
    json!({
        "uuid": m.uuid,
        "name": name,
        "kind": m.kind,
        "region": m.region,
        "location": location,
        "network_quality": quality,
        "created_at": m.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "updated_at": m.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

fn spec(b: &Value) -> Result<SiteSpec, Error> {
    let outer = body::object(b, &["site"])?;
    let s = body::object(
        body::required(outer, "site")?,
        &["name", "kind", "region", "location"],
    )?;
    let location = match s.get("location") {
        None | Some(Value::Null) => None,
        Some(l) => {
            let l = body::object(l, &["latitude", "longitude"])?;
            Some((
                body::number("latitude", body::required(l, "latitude")?, -90.0, 90.0)?,
                body::number("longitude", body::required(l, "longitude")?, -180.0, 180.0)?,
            ))
        }
    };
    Ok(SiteSpec {
        name: body::string("name", body::required(s, "name")?, 200)?,
        kind: body::one_of("kind", body::required(s, "kind")?, &KINDS)?,
        region: match s.get("region") {
            Some(r) => body::string("region", r, 255)?,
            None => "RegionOne".into(),
        },
        location,
    })
}

fn one(m: (Model, String)) -> Json<Value> {
    Json(json!({"site": view(&m.0, &m.1)}))
}

/// Sites, optionally of one `region` or `kind`.
#[utoipa::path(get, path = "/scheduler/v1/sites", tag = "sites",
    params(("region" = Option<String>, Query, description = "Only this region's"),
           ("kind" = Option<String>, Query, description = "idc, mec, aio or gateway")),
    security(("token" = [])),
    responses((status = 200, description = "The sites", body = Object)))]
pub async fn list_sites(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "sites")?;
    body::query(&q, &["region", "kind"])?;
    let all = app::list(&ctx, body::param(&q, "region"), body::param(&q, "kind")).await?;
    Ok(Json(
        json!({"sites": all.iter().map(|(m, n)| view(m, n)).collect::<Vec<_>>()}),
    ))
}

/// Creates a site (and its root provider): `{"site": {name, kind, region?, location?}}`.
#[utoipa::path(post, path = "/scheduler/v1/sites", tag = "sites",
    request_body(content = Object, description = "{site: {name, kind, region?, location?: {latitude, longitude}}}"),
    security(("token" = [])),
    responses((status = 201, description = "The site", body = Object),
              (status = 400, description = "A bad body"),
              (status = 409, description = "The name is taken")))]
pub async fn create_site(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(b): Json<Value>,
) -> Result<(StatusCode, Json<Value>), Error> {
    enforce(&auth, "sites")?;
    Ok((
        StatusCode::CREATED,
        one(app::create(&ctx, spec(&b)?).await?),
    ))
}

/// Shows a site.
#[utoipa::path(get, path = "/scheduler/v1/sites/{uuid}", tag = "sites",
    params(("uuid" = String, Path, description = "The site")),
    security(("token" = [])),
    responses((status = 200, description = "The site", body = Object),
              (status = 404, description = "No such site")))]
pub async fn show_site(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "sites")?;
    Ok(one(app::get(&ctx, &uuid).await?))
}

/// Replaces a site's name, kind, region and location.
#[utoipa::path(put, path = "/scheduler/v1/sites/{uuid}", tag = "sites",
    params(("uuid" = String, Path, description = "The site")),
    request_body(content = Object, description = "{site: {name, kind, region?, location?}}"),
    security(("token" = [])),
    responses((status = 200, description = "The site", body = Object),
              (status = 400, description = "A bad body"),
              (status = 404, description = "No such site")))]
pub async fn update_site(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "sites")?;
    Ok(one(app::update(&ctx, &uuid, spec(&b)?).await?))
}

/// Records the site's measured link to the centre.
#[utoipa::path(put, path = "/scheduler/v1/sites/{uuid}/network_quality", tag = "sites",
    params(("uuid" = String, Path, description = "The site")),
    request_body(content = Object, description = "{latency_ms, bandwidth_mbps, packet_loss (percent)}"),
    security(("token" = [])),
    responses((status = 200, description = "The site", body = Object),
              (status = 400, description = "A bad body"),
              (status = 404, description = "No such site")))]
pub async fn set_network_quality(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "sites")?;
    let q: &Map<String, Value> =
        body::object(&b, &["latency_ms", "bandwidth_mbps", "packet_loss"])?;
    let quality = Quality {
        latency_ms: body::number("latency_ms", body::required(q, "latency_ms")?, 0.0, 1e6)?,
        bandwidth_mbps: body::number(
            "bandwidth_mbps",
            body::required(q, "bandwidth_mbps")?,
            0.0,
            1e9,
        )?,
        packet_loss: body::number("packet_loss", body::required(q, "packet_loss")?, 0.0, 100.0)?,
    };
    Ok(one(app::set_quality(&ctx, &uuid, quality).await?))
}

/// Deletes a site that has no nodes.
#[utoipa::path(delete, path = "/scheduler/v1/sites/{uuid}", tag = "sites",
    params(("uuid" = String, Path, description = "The site")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such site"),
              (status = 409, description = "It still has nodes")))]
pub async fn delete_site(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
) -> Result<StatusCode, Error> {
    enforce(&auth, "sites")?;
    app::delete(&ctx, &uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}
