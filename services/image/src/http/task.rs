//! `GET /v2/images/{image_id}/tasks`: an image's import tasks (API v2.12).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::task as app;
use crate::db::task::Model;

/// Glance's task timestamps: microseconds, no zone.
fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn view(t: &Model) -> Value {
    json!({
        "id": t.id, "image_id": t.image_id, "request-id": t.request_id, "user": t.user_id,
        "type": t.kind, "status": t.status, "owner": t.owner,
        "expires_at": null, "created_at": time(&t.created_at), "updated_at": time(&t.updated_at),
        "deleted_at": null, "deleted": false,
        "input": serde_json::from_str::<Value>(&t.input).unwrap_or(Value::Null),
        "result": t.result.as_deref().and_then(|r| serde_json::from_str::<Value>(r).ok()),
        "message": t.message,
    })
}

/// The image's import tasks, oldest first, with their status and progress
/// (`message`, e.g. "Copied 15 MiB"); for the owner or an admin.
#[utoipa::path(get, path = "/v2/images/{image_id}/tasks", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    security(("token" = [])),
    responses((status = 200, description = "The tasks", body = Object),
              (status = 404, description = "No such image")))]
pub async fn list_image_tasks(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let tasks = app::list_for_image(&ctx, &auth, &id).await?;
    Ok(Json(
        json!({"tasks": tasks.iter().map(view).collect::<Vec<_>>()}),
    ))
}
