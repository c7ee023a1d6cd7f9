//! `POST /v2.1/servers/{id}/action`: start, stop, reboot, rebuild, pause,
//! unpause, lock, unlock and the console log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use crate::app::flavor::is_admin;
use crate::app::server_action::{self as app, Outcome};

/// Acts on a server; the body names one action. Those the node carries
/// out are accepted at once (202): the server shows their task state
/// until its node reports them done.
#[utoipa::path(post, path = "/v2.1/servers/{server_id}/action", tag = "servers",
    params(("server_id" = String, Path, description = "The server")),
    request_body(content = Object, description = "One of {\"os-start\": null}, {\"os-stop\": null}, {\"reboot\": {type: SOFT|HARD}}, {\"rebuild\": {imageRef, name?, metadata?}}, {\"pause\": null}, {\"unpause\": null}, {\"lock\": null}, {\"unlock\": null}, {\"os-getConsoleOutput\": {length?}}, {\"resize\": {flavorRef}}, {\"migrate\": null | {host}}, {\"confirmResize\": null}, {\"revertResize\": null}, {\"evacuate\": {host?, onSharedStorage?: false}}"),
    security(("token" = [])),
    responses((status = 202, description = "Accepted (a rebuild: {\"server\": {...}})", body = Object),
              (status = 204, description = "confirmResize: confirmed"),
              (status = 200, description = "The console log: {\"output\": \"...\"}; evacuate: accepted, no body", body = Object),
              (status = 400, description = "An unknown action or a bad argument, an unknown image"),
              (status = 403, description = "The policy forbids it (an owner undoing an admin's lock)"),
              (status = 404, description = "No such server the caller may see; no console"),
              (status = 409, description = "Locked, or in a state the action is not allowed in (named)"),
              (status = 503, description = "The node did not answer (the console log)")))]
pub async fn server_action(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(server_id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Response, Error> {
    Ok(match app::act(&ctx, &auth, &server_id, &body, v).await? {
        Outcome::Accepted => StatusCode::ACCEPTED.into_response(),
        Outcome::Confirmed => StatusCode::NO_CONTENT.into_response(),
        Outcome::Evacuating => StatusCode::OK.into_response(),
        Outcome::Rebuilding(m) => {
            let base = ctx.base_url(&headers);
            let server = super::server::view(&base, &m, is_admin(&auth), v, &None);
            (StatusCode::ACCEPTED, Json(json!({ "server": server }))).into_response()
        }
        Outcome::Console(output) => Json(json!({ "output": output })).into_response(),
    })
}
