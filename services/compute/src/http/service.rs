//! `/v2.1/os-services`: the edge nodes as `nova-compute` services
//! (admins), taking one out of scheduling, and (2.11) forcing one down.

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use crate::app::input;
use crate::app::service::{self as app, COMPUTE, Flag, Service};

fn nova_time(s: &Value) -> Value {
    s.as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(Value::Null, |t| {
            json!(super::nova_time(&t.with_timezone(&chrono::Utc)))
        })
}

/// A node as Nova shows a service at `at` (2.11: `forced_down`).
pub fn view(s: &Service, at: Microversion) -> Value {
    let disabled = s.node["disabled"].as_bool().unwrap_or(false);
    let mut v = json!({
        "id": s.node["uuid"],
        "binary": COMPUTE,
        "host": s.node["hostname"],
        "zone": s.zone,
        "status": if disabled { "disabled" } else { "enabled" },
        "state": if s.node["state"] == "down" || s.node["last_seen"].is_null() { "down" } else { "up" },
        "updated_at": nova_time(&s.node["last_seen"]),
        "disabled_reason": Value::Null,
    });
    if at.at_least(11) {
        v["forced_down"] = json!(s.node["forced_down"].as_bool().unwrap_or(false));
    }
    v
}

/// Lists the compute services (one a node), optionally of one host or binary.
#[utoipa::path(get, path = "/v2.1/os-services", tag = "services",
    params(("host" = Option<String>, Query, description = "Only this host's"),
           ("binary" = Option<String>, Query, description = "Only this binary's (nova-compute)")),
    security(("token" = [])),
    responses((status = 200, description = "{\"services\": [{id, binary, host, zone, status, state, updated_at, disabled_reason}]}", body = Object),
              (status = 403, description = "Not an admin")))]
pub async fn list_services(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let all = app::list(&ctx, &auth, get("host"), get("binary")).await?;
    Ok(Json(
        json!({"services": all.iter().map(|s| view(s, v)).collect::<Vec<_>>()}),
    ))
}

fn host_binary(body: &Value) -> Result<(String, String), Error> {
    let get = |k: &str| {
        body[k].as_str().map(str::to_owned).ok_or_else(|| {
            Error::BadRequest(format!(
                "Invalid input for field/attribute {k}. '{k}' is a required property"
            ))
        })
    };
    Ok((get("host")?, get("binary")?))
}

async fn set(
    ctx: &ServiceContext,
    auth: &Auth,
    body: &Value,
    disabled: bool,
) -> Result<Json<Value>, Error> {
    let (host, binary) = host_binary(body)?;
    app::set(ctx, auth, &host, &binary, Flag::Disabled(disabled)).await?;
    let status = if disabled { "disabled" } else { "enabled" };
    Ok(Json(
        json!({"service": {"host": host, "binary": binary, "status": status}}),
    ))
}

/// Takes a host's compute service (its node) out of scheduling.
#[utoipa::path(put, path = "/v2.1/os-services/disable", tag = "services",
    request_body(content = Object, description = "{host, binary}"),
    security(("token" = [])),
    responses((status = 200, description = "{\"service\": {host, binary, status}}", body = Object),
              (status = 400, description = "host or binary missing"),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such service on the host")))]
pub async fn disable_service(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    set(&ctx, &auth, &body, true).await
}

/// Puts a host's compute service (its node) back into scheduling.
#[utoipa::path(put, path = "/v2.1/os-services/enable", tag = "services",
    request_body(content = Object, description = "{host, binary}"),
    security(("token" = [])),
    responses((status = 200, description = "{\"service\": {host, binary, status}}", body = Object),
              (status = 400, description = "host or binary missing"),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such service on the host")))]
pub async fn enable_service(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    set(&ctx, &auth, &body, false).await
}

/// Forces a host's compute service (its node) down, or lifts that
/// (2.11): a node known to be fenced can have its servers evacuated
/// without waiting for its heartbeats to go stale.
#[utoipa::path(put, path = "/v2.1/os-services/force-down", tag = "services",
    request_body(content = Object, description = "{host, binary, forced_down}"),
    security(("token" = [])),
    responses((status = 200, description = "{\"service\": {host, binary, forced_down}}", body = Object),
              (status = 400, description = "host, binary or forced_down missing or bad"),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such service on the host; before 2.11, no such action")))]
pub async fn force_down_service(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    if !v.at_least(11) {
        return Err(Error::Missing {
            kind: "Action",
            message: "Unknown action".into(),
        });
    }
    let (host, binary) = host_binary(&body)?;
    let forced = body
        .get("forced_down")
        .ok_or_else(|| {
            Error::BadRequest(
                "Invalid input for field/attribute forced_down. 'forced_down' is a required property"
                    .into(),
            )
        })
        .and_then(|f| input::boolean("forced_down", f))?;
    app::set(&ctx, &auth, &host, &binary, Flag::ForcedDown(forced)).await?;
    Ok(Json(
        json!({"service": {"host": host, "binary": binary, "forced_down": forced}}),
    ))
}
