//! `/allocations/{consumer_uuid}` and a provider's allocations and usages.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body;
use crate::app::allocation::{self as app, Wanted};
use crate::app::enforce;
use crate::app::inventory::MAX_INT;

/// The 1.0 body: `{"allocations": [{"resource_provider": {"uuid"}, "resources": {CLASS: n}}]}`.
fn wanted(b: &Value) -> Result<Wanted, Error> {
    let obj = body::object(b, &["allocations"])?;
    let list = body::required(obj, "allocations")?
        .as_array()
        .ok_or_else(|| body::invalid("'allocations' is not of type 'array'"))?;
    if list.is_empty() {
        return Err(body::invalid("[] is too short ('allocations')"));
    }
    let mut out = Wanted::new();
    for a in list {
        let a = body::object(a, &["resource_provider", "resources"])?;
        let rp = body::object(body::required(a, "resource_provider")?, &["uuid"])?;
        let uuid = body::uuid(
            "resource_provider.uuid",
            body::required(rp, "uuid")?.as_str().unwrap_or_default(),
        )?;
        let res = body::required(a, "resources")?
            .as_object()
            .ok_or_else(|| body::invalid("'resources' is not of type 'object'"))?;
        if res.is_empty() {
            return Err(body::invalid("'resources' does not have enough properties"));
        }
        let mine = out.entry(uuid).or_default();
        for (class, n) in res {
            mine.insert(class.clone(), body::int(class, n, 1, MAX_INT)?);
        }
    }
    Ok(out)
}

/// Claims resources for a consumer, replacing what it held: all or
/// nothing (409 when any amount does not fit, or keeps racing).
#[utoipa::path(put, path = "/allocations/{consumer_uuid}", tag = "allocations",
    params(("consumer_uuid" = String, Path, description = "The consumer (an instance, a reservation)")),
    request_body(content = Object, description = "{allocations: [{resource_provider: {uuid}, resources: {CLASS: n}}]}"),
    security(("token" = [])),
    responses((status = 204, description = "Claimed"),
              (status = 400, description = "A bad body or an unknown provider"),
              (status = 409, description = "Not enough room, no such inventory, or a race lost too often")))]
pub async fn set_allocations(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(consumer): Path<String>,
    Json(b): Json<Value>,
) -> Result<StatusCode, Error> {
    enforce(&auth, "allocations")?;
    let consumer = body::uuid("consumer_uuid", &consumer)?;
    app::set(&ctx, &consumer, &wanted(&b)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A consumer's allocations by provider (empty when it has none).
#[utoipa::path(get, path = "/allocations/{consumer_uuid}", tag = "allocations",
    params(("consumer_uuid" = String, Path, description = "The consumer")),
    security(("token" = [])),
    responses((status = 200, description = "Allocations", body = Object)))]
pub async fn show_allocations(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(consumer): Path<String>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "allocations")?;
    let all = app::of_consumer(&ctx, &consumer).await?;
    let out: Map<String, Value> = all
        .into_iter()
        .map(|(p, (g, r))| (p, json!({"generation": g, "resources": r})))
        .collect();
    Ok(Json(json!({"allocations": out})))
}

/// Gives a consumer's resources back.
#[utoipa::path(delete, path = "/allocations/{consumer_uuid}", tag = "allocations",
    params(("consumer_uuid" = String, Path, description = "The consumer")),
    security(("token" = [])),
    responses((status = 204, description = "Released"),
              (status = 404, description = "The consumer has no allocations")))]
pub async fn delete_allocations(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(consumer): Path<String>,
) -> Result<StatusCode, Error> {
    enforce(&auth, "allocations")?;
    app::delete(&ctx, &consumer).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A provider's allocations by consumer, with its generation.
#[utoipa::path(get, path = "/resource_providers/{uuid}/allocations", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    security(("token" = [])),
    responses((status = 200, description = "Allocations", body = Object),
              (status = 404, description = "No such provider")))]
pub async fn list_provider_allocations(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "allocations")?;
    let (all, g) = app::of_provider(&ctx, &uuid).await?;
    let out: Map<String, Value> = all
        .into_iter()
        .map(|(c, r)| (c, json!({"resources": r})))
        .collect();
    Ok(Json(
        json!({"allocations": out, "resource_provider_generation": g}),
    ))
}

/// What is used of each class the provider has, with its generation.
#[utoipa::path(get, path = "/resource_providers/{uuid}/usages", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    security(("token" = [])),
    responses((status = 200, description = "Usages", body = Object),
              (status = 404, description = "No such provider")))]
pub async fn list_usages(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "usages")?;
    let (usages, g): (BTreeMap<String, i64>, i64) = app::usages(&ctx, &uuid).await?;
    Ok(Json(
        json!({"usages": usages, "resource_provider_generation": g}),
    ))
}
