//! `/v2.0/security-group-rules`: the rules of security groups.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body::Body;
use super::{neutron_time, query};
use crate::app::security_group_rule::check::RuleRequest;
use crate::app::security_group_rule::{self as app};
use crate::db::security_group_rule::Model;

const POST: &[&str] = &[
    "security_group_id",
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "description",
    "tenant_id",
    "project_id",
];
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at", "revision_number"];

pub fn view(m: &Model) -> Value {
    json!({
        "id": m.id, "tenant_id": m.project_id, "project_id": m.project_id,
        "security_group_id": m.security_group_id, "direction": m.direction,
        "ethertype": m.ethertype, "protocol": m.protocol,
        "port_range_min": m.port_range_min, "port_range_max": m.port_range_max,
        "remote_ip_prefix": m.remote_ip_prefix, "remote_group_id": m.remote_group_id,
        "description": m.description,
        "created_at": neutron_time(&m.created_at), "updated_at": neutron_time(&m.updated_at),
        "revision_number": m.revision_number,
    })
}

/// Lists the rules of the caller's groups (an admin: all).
#[utoipa::path(get, path = "/v2.0/security-group-rules", tag = "security-groups",
    params(("limit" = Option<u64>, Query, description = "Page size"),
           ("marker" = Option<String>, Query, description = "The last rule of the previous page"),
           ("sort_key" = Option<String>, Query, description = "An attribute to sort by (repeatable)"),
           ("sort_dir" = Option<String>, Query, description = "asc or desc, one per sort_key"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "Rules", body = Object),
              (status = 400, description = "A bad filter, sort key or limit")))]
pub async fn list_security_group_rules(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let q = query::parse(&pairs, app::FILTERS, app::SORT_KEYS)?;
    let rows = app::list(&ctx, &auth, &q).await?;
    let items = rows.iter().map(|m| (m.id.clone(), view(m))).collect();
    Ok(Json(query::page(
        "security_group_rules",
        "/v2.0/security-group-rules",
        &pairs,
        &q,
        items,
    )))
}

/// Adds a rule to a group: direction, ethertype, protocol (name or
/// number), port range (ICMP type and code for ICMP), and a remote prefix
/// or group. The same rule twice is 409; a bad protocol or range 400.
#[utoipa::path(post, path = "/v2.0/security-group-rules", tag = "security-groups",
    request_body(content = Object, description = "{\"security_group_rule\": {...}}"),
    security(("token" = [])),
    responses((status = 201, description = "Created", body = Object),
              (status = 400, description = "A bad protocol, port range, prefix or attribute"),
              (status = 404, description = "No such group"),
              (status = 409, description = "The group has this rule")))]
pub async fn create_security_group_rule(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(raw): Json<Value>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let b = Body::new(raw, "security_group_rule", "POST", POST, READ_ONLY)?;
    let group = b.string("security_group_id", 36)?.ok_or_else(|| {
        Error::BadRequest(
            "Failed to parse request. Required attribute 'security_group_id' not specified".into(),
        )
    })?;
    let port = |k: &str| -> Result<Option<i64>, Error> {
        match b.get(k) {
            Some(Value::Null) => Ok(None),
            _ => b.int(k),
        }
    };
    let request = RuleRequest {
        direction: b.string("direction", 8)?,
        ethertype: b.string("ethertype", 8)?,
        protocol: match b.get("protocol") {
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => b.nullable_string("protocol", 40)?.flatten(),
        },
        port_range_min: port("port_range_min")?,
        port_range_max: port("port_range_max")?,
        remote_ip_prefix: b.nullable_string("remote_ip_prefix", 64)?.flatten(),
        remote_group_id: b.nullable_string("remote_group_id", 36)?.flatten(),
    };
    let description = b.string("description", 255)?.unwrap_or_default();
    let m = app::create(&ctx, &auth, &group, request, description).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"security_group_rule": view(&m)})),
    ))
}

/// Shows a rule of one of the caller's groups; any other is 404.
#[utoipa::path(get, path = "/v2.0/security-group-rules/{rule_id}", tag = "security-groups",
    params(("rule_id" = String, Path, description = "The rule"),
           ("fields" = Option<String>, Query, description = "An attribute to show (repeatable)")),
    security(("token" = [])),
    responses((status = 200, description = "The rule", body = Object),
              (status = 404, description = "No such rule, or not visible")))]
pub async fn show_security_group_rule(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let m = app::visible(&ctx, &auth, &id).await?;
    let v = query::shown(view(&m), &pairs);
    Ok(Json(json!({ "security_group_rule": v })))
}

/// Deletes a rule.
#[utoipa::path(delete, path = "/v2.0/security-group-rules/{rule_id}", tag = "security-groups",
    params(("rule_id" = String, Path, description = "The rule")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such rule, or not visible")))]
pub async fn delete_security_group_rule(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
