//! `/resource_providers/{uuid}/inventories[/{resource_class}]`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body;
use super::microversion::Microversion;
use crate::app::enforce;
use crate::app::inventory::{self as app, Inventory, MAX_INT};

pub(crate) const FIELDS: [&str; 6] = [
    "total",
    "reserved",
    "min_unit",
    "max_unit",
    "step_size",
    "allocation_ratio",
];

fn view(i: &Inventory) -> Value {
    json!({"total": i.total, "reserved": i.reserved, "min_unit": i.min_unit,
        "max_unit": i.max_unit, "step_size": i.step_size, "allocation_ratio": i.allocation_ratio})
}

fn all_view(all: &BTreeMap<String, Inventory>, generation: i64) -> Value {
    let inv: Map<String, Value> = all.iter().map(|(c, i)| (c.clone(), view(i))).collect();
    json!({"inventories": inv, "resource_provider_generation": generation})
}

/// One inventory from `obj` (Placement's defaults for what is missing).
pub(crate) fn parse(obj: &Map<String, Value>, v: Microversion) -> Result<Inventory, Error> {
    let opt = |k: &str, min: i64, default: i64| {
        obj.get(k)
            .map_or(Ok(default), |v| body::int(k, v, min, MAX_INT))
    };
    let ratio = match obj.get("allocation_ratio") {
        None => 1.0,
        Some(v) => match v.as_f64() {
            Some(r) if r > 0.0 && r <= f64::from(f32::MAX) => r,
            _ => {
                return Err(body::invalid(format!(
                    "{v} is not a positive number ('allocation_ratio')"
                )));
            }
        },
    };
    let inv = Inventory {
        total: body::int("total", body::required(obj, "total")?, 1, MAX_INT)?,
        reserved: opt("reserved", 0, 0)?,
        min_unit: opt("min_unit", 1, 1)?,
        max_unit: opt("max_unit", 1, MAX_INT)?,
        step_size: opt("step_size", 1, 1)?,
        allocation_ratio: ratio,
    };
    // 1.26 lets an operator reserve all of a class (take it out of use).
    if !v.at_least(26) && inv.reserved >= inv.total {
        return Err(body::invalid(format!(
            "reserved {} is greater than or equal to total {} (allowed from microversion 1.26)",
            inv.reserved, inv.total
        )));
    }
    Ok(inv)
}

pub(crate) fn generation(obj: &Map<String, Value>) -> Result<i64, Error> {
    body::int(
        "resource_provider_generation",
        body::required(obj, "resource_provider_generation")?,
        0,
        i64::MAX,
    )
}

/// A provider's inventories, by resource class, with its generation.
#[utoipa::path(get, path = "/resource_providers/{uuid}/inventories", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    security(("token" = [])),
    responses((status = 200, description = "Inventories", body = Object),
              (status = 404, description = "No such provider")))]
pub async fn list_inventories(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "inventories")?;
    let (all, g) = app::list(&ctx, &uuid).await?;
    Ok(Json(all_view(&all, g)))
}

/// Replaces all inventories as of `resource_provider_generation`
/// (409 when it is stale).
#[utoipa::path(put, path = "/resource_providers/{uuid}/inventories", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    request_body(content = Object, description = "{resource_provider_generation, inventories: {CLASS: {total, ...}}}"),
    security(("token" = [])),
    responses((status = 200, description = "Inventories", body = Object),
              (status = 400, description = "A bad body or an unknown resource class"),
              (status = 404, description = "No such provider"),
              (status = 409, description = "The generation is stale")))]
pub async fn set_inventories(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "inventories")?;
    let obj = body::object(&b, &["resource_provider_generation", "inventories"])?;
    let seen = generation(obj)?;
    let inv = body::required(obj, "inventories")?
        .as_object()
        .ok_or_else(|| body::invalid("'inventories' is not of type 'object'"))?;
    let mut new = BTreeMap::new();
    for (class, i) in inv {
        new.insert(class.clone(), parse(body::object(i, &FIELDS)?, v)?);
    }
    app::update(&ctx, &uuid, Some(seen), |all| {
        *all = new;
        Ok(())
    })
    .await?;
    let (all, g) = app::list(&ctx, &uuid).await?;
    Ok(Json(all_view(&all, g)))
}

/// Removes all inventories (1.5); 409 while any is allocated.
#[utoipa::path(delete, path = "/resource_providers/{uuid}/inventories", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such provider"),
              (status = 409, description = "Some inventory is in use")))]
pub async fn delete_inventories(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(uuid): Path<String>,
) -> Result<StatusCode, Error> {
    v.require(5)?;
    enforce(&auth, "inventories")?;
    app::update(&ctx, &uuid, None, |all| {
        all.clear();
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds one class's inventory (`resource_class` and its fields): 201.
#[utoipa::path(post, path = "/resource_providers/{uuid}/inventories", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    request_body(content = Object, description = "{resource_class, total, ...}"),
    security(("token" = [])),
    responses((status = 201, description = "Created", body = Object),
              (status = 400, description = "A bad body or an unknown resource class"),
              (status = 404, description = "No such provider"),
              (status = 409, description = "The provider has that class already")))]
pub async fn create_inventory(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Response, Error> {
    enforce(&auth, "inventories")?;
    let mut allowed = FIELDS.to_vec();
    allowed.push("resource_class");
    let obj = body::object(&b, &allowed)?;
    let class = body::string(
        "resource_class",
        body::required(obj, "resource_class")?,
        255,
    )?;
    let inv = parse(obj, v)?;
    let (c, i, p) = (class.clone(), inv.clone(), uuid.clone());
    let g = app::update(&ctx, &uuid, None, move |all| match all.contains_key(&c) {
        true => Err(Error::Conflict(format!(
            "Inventory for {c} on resource provider {p} already exists."
        ))),
        false => {
            all.insert(c, i);
            Ok(())
        }
    })
    .await?;
    let mut out = view(&inv);
    out["resource_provider_generation"] = json!(g);
    let location = format!(
        "{}/resource_providers/{uuid}/inventories/{class}",
        ctx.base_url(&headers)
    );
    let resp = (StatusCode::CREATED, Json(out)).into_response();
    super::located(resp, &location)
}

/// One class's inventory, with the provider's generation.
#[utoipa::path(get, path = "/resource_providers/{uuid}/inventories/{resource_class}", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider"),
           ("resource_class" = String, Path, description = "The resource class")),
    security(("token" = [])),
    responses((status = 200, description = "The inventory", body = Object),
              (status = 404, description = "No such provider or inventory")))]
pub async fn show_inventory(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((uuid, class)): Path<(String, String)>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "inventories")?;
    let (inv, g) = app::get(&ctx, &uuid, &class).await?;
    let mut out = view(&inv);
    out["resource_provider_generation"] = json!(g);
    Ok(Json(out))
}

/// Sets one class's inventory as of `resource_provider_generation`.
#[utoipa::path(put, path = "/resource_providers/{uuid}/inventories/{resource_class}", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider"),
           ("resource_class" = String, Path, description = "The resource class")),
    request_body(content = Object, description = "{resource_provider_generation, total, ...}"),
    security(("token" = [])),
    responses((status = 200, description = "The inventory", body = Object),
              (status = 400, description = "A bad body or an unknown resource class"),
              (status = 404, description = "No such provider"),
              (status = 409, description = "The generation is stale")))]
pub async fn update_inventory(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path((uuid, class)): Path<(String, String)>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "inventories")?;
    let mut allowed = FIELDS.to_vec();
    allowed.push("resource_provider_generation");
    let obj = body::object(&b, &allowed)?;
    let seen = generation(obj)?;
    let inv = parse(obj, v)?;
    let (c, i) = (class.clone(), inv.clone());
    let g = app::update(&ctx, &uuid, Some(seen), move |all| {
        all.insert(c, i);
        Ok(())
    })
    .await?;
    let mut out = view(&inv);
    out["resource_provider_generation"] = json!(g);
    Ok(Json(out))
}

/// Removes one class's inventory.
#[utoipa::path(delete, path = "/resource_providers/{uuid}/inventories/{resource_class}", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider"),
           ("resource_class" = String, Path, description = "The resource class")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such provider or inventory"),
              (status = 409, description = "The inventory is in use")))]
pub async fn delete_inventory(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((uuid, class)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    enforce(&auth, "inventories")?;
    app::get(&ctx, &uuid, &class).await?;
    app::update(&ctx, &uuid, None, |all| {
        all.remove(&class);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
