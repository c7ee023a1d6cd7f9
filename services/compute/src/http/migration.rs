//! `/v2.1/os-migrations`: servers' moves, for admins.

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use super::nova_time;
use crate::app::migration::{self as app, Filter};
use crate::db::migration::Model;

/// A move as Nova shows it at `at` (2.23: its `migration_type`): nodes by
/// the names servers show them by, flavors by id.
pub fn view(m: &Model, at: Microversion) -> Value {
    let flavor =
        |doc: &str| serde_json::from_str::<Value>(doc).map_or(Value::Null, |f| f["id"].clone());
    let mut v = json!({
        "id": m.id,
        "instance_uuid": m.instance_id,
        "status": m.status,
        "source_compute": m.source_node,
        "source_node": m.source_node,
        "dest_compute": m.dest_node,
        "dest_node": m.dest_node,
        "dest_host": null,
        "old_instance_type_id": flavor(&m.old_flavor),
        "new_instance_type_id": flavor(&m.new_flavor),
        "created_at": nova_time(&m.created_at),
        "updated_at": nova_time(&m.updated_at),
    });
    if at.at_least(23) {
        v["migration_type"] = json!(m.migration_type);
    }
    v
}

/// Lists every server's moves (resizes, cold migrations, evacuations),
/// newest first; admins only.
#[utoipa::path(get, path = "/v2.1/os-migrations", tag = "migrations",
    params(Filter),
    security(("token" = [])),
    responses((status = 200, description = "{\"migrations\": [{id, instance_uuid, status, source_compute, source_node, dest_compute, dest_node, dest_host, old_instance_type_id, new_instance_type_id, created_at, updated_at}]}", body = Object),
              (status = 403, description = "Not an admin")))]
pub async fn list_migrations(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Query(f): Query<Filter>,
) -> Result<Json<Value>, Error> {
    let all = app::list(&ctx, &auth, &f).await?;
    Ok(Json(
        json!({ "migrations": all.iter().map(|m| view(m, v)).collect::<Vec<_>>() }),
    ))
}
