//! `/v2.1/servers/{id}/remote-consoles` (microversion 2.6).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use crate::app::remote_console as app;

/// Asks for a remote console. Virga runs no console proxy, so a request
/// that holds up is answered 400 `Unavailable console type <type>.`, as
/// Nova answers when that type's proxy is not enabled; the guest's
/// console output is the `os-getConsoleOutput` action.
#[utoipa::path(post, path = "/v2.1/servers/{server_id}/remote-consoles", tag = "servers",
    params(("server_id" = String, Path, description = "The server")),
    request_body(content = Object, description = "{\"remote_console\": {\"protocol\": \"vnc|spice|rdp|serial|mks\", \"type\": \"novnc|xvpvnc|spice-html5|rdp-html5|serial|webmks\"}} (mks, webmks: 2.8)"),
    security(("token" = [])),
    responses((status = 400, description = "A bad body, a type that is not the protocol's, or (any valid request) the type is unavailable"),
              (status = 404, description = "No such server the caller may see; before 2.6, no such resource")))]
pub async fn create_remote_console(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Path(server_id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    if !v.at_least(6) {
        return Err(crate::app::versions::not_in_version());
    }
    Err(app::create(&ctx, &auth, &server_id, &body, v).await)
}
