//! `/v2.1/servers/{id}/os-instance-actions`: a server's actions log.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use super::nova_time;
use crate::app::instance_action as app;
use crate::db::{instance_action, instance_action_event};

fn view(a: &instance_action::Model) -> Value {
    json!({
        "action": a.action,
        "instance_uuid": a.instance_id,
        "message": a.message,
        "project_id": a.project_id,
        "request_id": a.request_id,
        "start_time": nova_time(&a.start_time),
        "user_id": a.user_id,
    })
}

fn event_view(e: &instance_action_event::Model) -> Value {
    json!({
        "event": e.event,
        "start_time": nova_time(&e.start_time),
        "finish_time": e.finish_time.as_ref().map(nova_time),
        "result": e.result,
        "traceback": e.traceback,
    })
}

/// Lists what was asked of the server, newest first.
#[utoipa::path(get, path = "/v2.1/servers/{server_id}/os-instance-actions", tag = "servers",
    params(("server_id" = String, Path, description = "The server")),
    security(("token" = [])),
    responses((status = 200, description = "{\"instanceActions\": [{action, instance_uuid, message, project_id, request_id, start_time, user_id}]}", body = Object),
              (status = 404, description = "No such server the caller may see")))]
pub async fn list_instance_actions(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Path(server_id): Path<String>,
) -> Result<Json<Value>, Error> {
    let rows = app::list(&ctx, &auth, &server_id, v).await?;
    Ok(Json(
        json!({"instanceActions": rows.iter().map(view).collect::<Vec<_>>()}),
    ))
}

/// Shows one action of the server, by the request that asked it; admins
/// also see its events (each step, how it ended, and why it failed).
#[utoipa::path(get, path = "/v2.1/servers/{server_id}/os-instance-actions/{request_id}", tag = "servers",
    params(("server_id" = String, Path, description = "The server"),
           ("request_id" = String, Path, description = "The request that asked it (req-...)")),
    security(("token" = [])),
    responses((status = 200, description = "{\"instanceAction\": {..., events?: [{event, start_time, finish_time, result, traceback}]}}", body = Object),
              (status = 404, description = "No such server or action")))]
pub async fn show_instance_action(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Path((server_id, request_id)): Path<(String, String)>,
) -> Result<Json<Value>, Error> {
    let (a, events) = app::show(&ctx, &auth, &server_id, &request_id, v).await?;
    let mut v = view(&a);
    if let Some(events) = events {
        v["events"] = json!(events.iter().map(event_view).collect::<Vec<_>>());
    }
    Ok(Json(json!({ "instanceAction": v })))
}
