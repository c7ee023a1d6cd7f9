//! `/resource_providers/{uuid}/aggregates` (microversion 1.1).

use axum::Json;
use axum::extract::{Extension, Path, State};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body;
use super::microversion::Microversion;
use crate::app::aggregate as app;
use crate::app::enforce;

/// The aggregates a provider is in.
#[utoipa::path(get, path = "/resource_providers/{uuid}/aggregates", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    security(("token" = [])),
    responses((status = 200, description = "Aggregate uuids", body = Object),
              (status = 404, description = "No such provider")))]
pub async fn list_aggregates(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, Error> {
    v.require(1)?;
    enforce(&auth, "aggregates")?;
    let (aggs, g) = app::list(&ctx, &uuid).await?;
    Ok(Json(view(aggs, g, v)))
}

/// From 1.19 the provider's generation comes along.
fn view(aggs: Vec<String>, generation: i64, v: Microversion) -> Value {
    if v.at_least(19) {
        json!({"aggregates": aggs, "resource_provider_generation": generation})
    } else {
        json!({"aggregates": aggs})
    }
}

/// Sets the provider's aggregates to the given list of uuids.
#[utoipa::path(put, path = "/resource_providers/{uuid}/aggregates", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    request_body(content = Object, description = "[aggregate uuid, ...]; from 1.19 {aggregates, resource_provider_generation}"),
    security(("token" = [])),
    responses((status = 200, description = "Aggregate uuids", body = Object),
              (status = 400, description = "Not a list of uuids"),
              (status = 404, description = "No such provider"),
              (status = 409, description = "A stale generation (1.19)")))]
pub async fn set_aggregates(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    v.require(1)?;
    enforce(&auth, "aggregates")?;
    // Before 1.19 the body is the bare list.
    let (raw, seen) = if v.at_least(19) {
        let obj = body::object(&b, &["aggregates", "resource_provider_generation"])?;
        let g = body::required(obj, "resource_provider_generation")?;
        (
            body::required(obj, "aggregates")?,
            Some(body::int("resource_provider_generation", g, 0, i64::MAX)?),
        )
    } else {
        (&b, None)
    };
    let list = raw
        .as_array()
        .ok_or_else(|| body::invalid(format!("{raw} is not of type 'array'")))?;
    let aggs = list
        .iter()
        .map(|a| body::uuid("aggregates", a.as_str().unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()?;
    let (aggs, g) = app::set(&ctx, &uuid, aggs, seen).await?;
    Ok(Json(view(aggs, g, v)))
}
