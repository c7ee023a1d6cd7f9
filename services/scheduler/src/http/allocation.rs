//! `/allocations/{consumer_uuid}`, `POST /allocations` (1.13), a
//! provider's allocations and usages, and `/usages` by project (1.9).
//!
//! Bodies by version: 1.0 a list of `{resource_provider: {uuid},
//! resources}`; 1.8 adds `project_id` and `user_id`; 1.12 a dict keyed by
//! provider uuid; 1.28 adds `consumer_generation` (null for a new one).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body;
use super::microversion::Microversion;
use crate::app::allocation::{self as app, Claim, INCOMPLETE, Wanted};
use crate::app::enforce;
use crate::app::inventory::MAX_INT;

fn resources(into: &mut BTreeMap<String, i64>, v: &Value) -> Result<(), Error> {
    let res = v
        .as_object()
        .ok_or_else(|| body::invalid("'resources' is not of type 'object'"))?;
    if res.is_empty() {
        return Err(body::invalid("'resources' does not have enough properties"));
    }
    for (class, n) in res {
        into.insert(class.clone(), body::int(class, n, 1, MAX_INT)?);
    }
    Ok(())
}

/// The 1.0 list form.
fn wanted_list(v: &Value) -> Result<Wanted, Error> {
    let list = v
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
        resources(
            out.entry(uuid).or_default(),
            body::required(a, "resources")?,
        )?;
    }
    Ok(out)
}

/// The 1.12 dict form (may be empty: the consumer gives everything back).
fn wanted_dict(v: &Value) -> Result<Wanted, Error> {
    let map = v
        .as_object()
        .ok_or_else(|| body::invalid("'allocations' is not of type 'object'"))?;
    let mut out = Wanted::new();
    for (uuid, a) in map {
        let uuid = body::uuid("allocations", uuid)?;
        // `generation` is what GET shows; clients send it back unchanged.
        let a = body::object(a, &["resources", "generation"])?;
        resources(
            out.entry(uuid).or_default(),
            body::required(a, "resources")?,
        )?;
    }
    Ok(out)
}

/// 1.34: the `mappings` a candidate came with may be sent back; they
/// must be well formed (suffix → provider uuids) and are not kept.
fn mappings(v: &Value) -> Result<(), Error> {
    let m = v
        .as_object()
        .ok_or_else(|| body::invalid("'mappings' is not of type 'object'"))?;
    for (suffix, ps) in m {
        let ps = ps.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
            body::invalid(format!("'mappings.{suffix}' is not a non-empty array"))
        })?;
        for p in ps {
            let p = p.as_str().ok_or_else(|| {
                body::invalid(format!("'mappings.{suffix}' holds {p}, not a uuid"))
            })?;
            body::uuid("mappings", p)?;
        }
    }
    Ok(())
}

/// 1.38's `consumer_type`: capitals, digits and `_`, 1 to 255 long.
pub(crate) fn consumer_type(v: &Value) -> Result<String, Error> {
    let t = body::string("consumer_type", v, 255)?;
    if !t
        .bytes()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
    {
        return Err(body::invalid(format!(
            "'{t}' does not match '^[A-Z0-9_]+$'"
        )));
    }
    Ok(t)
}

fn id(obj: &Map<String, Value>, key: &str) -> Result<String, Error> {
    body::string(key, body::required(obj, key)?, 255)
}

/// One consumer's claim from its body at version `v`.
pub(crate) fn claim(consumer: &str, b: &Value, v: Microversion) -> Result<Claim, Error> {
    let mut keys = vec!["allocations"];
    if v.at_least(8) {
        keys.extend(["project_id", "user_id"]);
    }
    if v.at_least(28) {
        keys.push("consumer_generation");
    }
    if v.at_least(34) {
        keys.push("mappings");
    }
    if v.at_least(38) {
        keys.push("consumer_type");
    }
    let obj = body::object(b, &keys)?;
    if let Some(m) = obj.get("mappings") {
        mappings(m)?;
    }
    let raw = body::required(obj, "allocations")?;
    let wanted = if v.at_least(12) {
        wanted_dict(raw)?
    } else {
        wanted_list(raw)?
    };
    let (project_id, user_id) = if v.at_least(8) {
        (id(obj, "project_id")?, id(obj, "user_id")?)
    } else {
        (INCOMPLETE.to_owned(), INCOMPLETE.to_owned())
    };
    let seen = if v.at_least(28) {
        match body::required(obj, "consumer_generation")? {
            Value::Null => Some(None),
            g => Some(Some(body::int("consumer_generation", g, 0, i64::MAX)?)),
        }
    } else {
        None
    };
    let consumer_type = if v.at_least(38) {
        Some(consumer_type(body::required(obj, "consumer_type")?)?)
    } else {
        None
    };
    Ok(Claim {
        consumer: consumer.to_owned(),
        project_id,
        user_id,
        seen,
        consumer_type,
        wanted,
    })
}

/// Claims resources for a consumer, replacing what it held: all or
/// nothing (409 when any amount does not fit, the consumer generation is
/// stale, or the claim keeps racing).
#[utoipa::path(put, path = "/allocations/{consumer_uuid}", tag = "allocations",
    params(("consumer_uuid" = String, Path, description = "The consumer (an instance, a reservation)")),
    request_body(content = Object, description = "{allocations, project_id (1.8), user_id (1.8), consumer_generation (1.28)}"),
    security(("token" = [])),
    responses((status = 204, description = "Claimed"),
              (status = 400, description = "A bad body or an unknown provider"),
              (status = 409, description = "Not enough room, no such inventory, a stale consumer generation, or a race lost too often")))]
pub async fn set_allocations(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(consumer): Path<String>,
    Json(b): Json<Value>,
) -> Result<StatusCode, Error> {
    enforce(&auth, "allocations")?;
    let consumer = body::uuid("consumer_uuid", &consumer)?;
    app::set(&ctx, &[claim(&consumer, &b, v)?]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Claims for several consumers at once, all or nothing (1.13): moving
/// an instance's allocations to a migration record, say.
#[utoipa::path(post, path = "/allocations", tag = "allocations",
    request_body(content = Object, description = "{consumer_uuid: {allocations, project_id, user_id, consumer_generation (1.28)}}"),
    security(("token" = [])),
    responses((status = 204, description = "Claimed"),
              (status = 400, description = "A bad body or an unknown provider"),
              (status = 409, description = "Not enough room, a stale consumer generation, or a race lost too often")))]
pub async fn post_allocations(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Json(b): Json<Value>,
) -> Result<StatusCode, Error> {
    v.require(13)?;
    enforce(&auth, "allocations")?;
    let map = b
        .as_object()
        .ok_or_else(|| body::invalid(format!("{b} is not of type 'object'")))?;
    if map.is_empty() {
        return Err(body::invalid("{} does not have enough properties"));
    }
    let claims = map
        .iter()
        .map(|(c, cb)| claim(&body::uuid("consumer_uuid", c)?, cb, v))
        .collect::<Result<Vec<_>, _>>()?;
    app::set(&ctx, &claims).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A consumer's allocations by provider (empty when it has none), with
/// its project and user (1.12) and generation (1.28).
#[utoipa::path(get, path = "/allocations/{consumer_uuid}", tag = "allocations",
    params(("consumer_uuid" = String, Path, description = "The consumer")),
    security(("token" = [])),
    responses((status = 200, description = "Allocations", body = Object)))]
pub async fn show_allocations(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(consumer): Path<String>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "allocations")?;
    let held = app::of_consumer(&ctx, &consumer).await?;
    let allocations: Map<String, Value> = held
        .allocations
        .into_iter()
        .map(|(p, (g, r))| (p, json!({"generation": g, "resources": r})))
        .collect();
    let mut out = json!({"allocations": allocations});
    if let Some(c) = held.consumer.filter(|_| v.at_least(12)) {
        out["project_id"] = json!(c.project_id);
        out["user_id"] = json!(c.user_id);
        if v.at_least(28) {
            out["consumer_generation"] = json!(c.generation);
        }
        if v.at_least(38) {
            let t = c.consumer_type.as_deref().unwrap_or(app::UNKNOWN_TYPE);
            out["consumer_type"] = json!(t);
        }
    }
    Ok(Json(out))
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

/// What a project's (and, with `user_id`, one user's) consumers hold
/// (1.9); from 1.38 by consumer type, each with its consumer count, and
/// `consumer_type` picks one type, `all` or `unknown`.
#[utoipa::path(get, path = "/usages", tag = "usages",
    params(("project_id" = String, Query, description = "The project"),
           ("user_id" = Option<String>, Query, description = "Only this user's"),
           ("consumer_type" = Option<String>, Query, description = "1.38: one type, all or unknown")),
    security(("token" = [])),
    responses((status = 200, description = "Usages by class (by type and class from 1.38)", body = Object),
              (status = 400, description = "No project_id, or an unknown parameter")))]
pub async fn project_usages(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    v.require(9)?;
    enforce(&auth, "usages")?;
    if v.at_least(38) {
        body::query(&q, &["project_id", "user_id", "consumer_type"])?;
    } else {
        body::query(&q, &["project_id", "user_id"])?;
    }
    let project = body::param(&q, "project_id").ok_or_else(|| {
        Error::BadRequest(
            "Invalid query string parameters: 'project_id' is a required property".into(),
        )
    })?;
    let user = body::param(&q, "user_id");
    if !v.at_least(38) {
        let usages = app::project_usages(&ctx, project, user).await?;
        return Ok(Json(json!({"usages": usages})));
    }
    let only = body::param(&q, "consumer_type");
    if let Some(t) = only
        && !matches!(t, "all" | app::UNKNOWN_TYPE)
    {
        consumer_type(&json!(t)).map_err(|_| {
            Error::BadRequest(format!(
                "Invalid query string parameters: '{t}' does not match '^[A-Z0-9_]+$|^all$|^unknown$' ('consumer_type')"
            ))
        })?;
    }
    let by_type = app::usages_by_type(&ctx, project, user, only).await?;
    let usages: Map<String, Value> = by_type
        .into_iter()
        .map(|(t, (used, count))| {
            let mut o = json!(used);
            o["consumer_count"] = json!(count);
            (t, o)
        })
        .collect();
    Ok(Json(json!({"usages": usages})))
}
