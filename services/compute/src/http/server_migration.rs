//! `/v2.1/servers/{id}/migrations`: a server's in-progress live
//! migrations (2.22 to 2.24; admins). Virga has no live migration, so
//! there never is one (`app::server_migration`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use crate::app::server_migration as app;
use crate::app::versions::not_in_version;

/// Lists the server's in-progress live migrations (2.23): always none.
#[utoipa::path(get, path = "/v2.1/servers/{server_id}/migrations", tag = "servers",
    params(("server_id" = String, Path, description = "The server")),
    security(("token" = [])),
    responses((status = 200, description = "{\"migrations\": []}", body = Object),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such server; before 2.23, no such resource")))]
pub async fn list_server_migrations(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Path(server_id): Path<String>,
) -> Result<Json<Value>, Error> {
    if !v.at_least(23) {
        return Err(not_in_version());
    }
    app::list(&ctx, &auth, &server_id).await?;
    Ok(Json(json!({"migrations": []})))
}

/// Shows an in-progress live migration of the server (2.23): there is
/// none to show, so 404.
#[utoipa::path(get, path = "/v2.1/servers/{server_id}/migrations/{migration_id}", tag = "servers",
    params(("server_id" = String, Path, description = "The server"),
           ("migration_id" = String, Path, description = "The migration")),
    security(("token" = [])),
    responses((status = 403, description = "Not an admin"),
              (status = 404, description = "No such server, or no such live migration in progress")))]
pub async fn show_server_migration(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Path((server_id, migration_id)): Path<(String, String)>,
) -> Result<Json<Value>, Error> {
    if !v.at_least(23) {
        return Err(not_in_version());
    }
    Err(app::show(&ctx, &auth, &server_id, &migration_id).await)
}

/// Aborts an in-progress live migration (2.24): the server is not
/// live-migrating, so 409 naming its state.
#[utoipa::path(delete, path = "/v2.1/servers/{server_id}/migrations/{migration_id}", tag = "servers",
    params(("server_id" = String, Path, description = "The server"),
           ("migration_id" = String, Path, description = "The migration")),
    security(("token" = [])),
    responses((status = 403, description = "Not an admin"),
              (status = 404, description = "No such server; before 2.24, no such resource"),
              (status = 409, description = "The server is not live-migrating")))]
pub async fn delete_server_migration(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Path((server_id, _migration_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    if !v.at_least(24) {
        return Err(not_in_version());
    }
    app::end(&ctx, &auth, &server_id, true).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Forces an in-progress live migration to complete (2.22,
/// `{"force_complete": null}`): the server is not live-migrating, so 409
/// naming its state.
#[utoipa::path(post, path = "/v2.1/servers/{server_id}/migrations/{migration_id}/action", tag = "servers",
    params(("server_id" = String, Path, description = "The server"),
           ("migration_id" = String, Path, description = "The migration")),
    request_body(content = Object, description = "{\"force_complete\": null}"),
    security(("token" = [])),
    responses((status = 400, description = "Not a force_complete body"),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such server; before 2.22, no such resource"),
              (status = 409, description = "The server is not live-migrating")))]
pub async fn server_migration_action(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Path((server_id, _migration_id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<StatusCode, Error> {
    if !v.at_least(22) {
        return Err(not_in_version());
    }
    if body != json!({"force_complete": null}) {
        return Err(Error::BadRequest(
            "Invalid input for field/attribute. The body must be {\"force_complete\": null}."
                .into(),
        ));
    }
    app::end(&ctx, &auth, &server_id, false).await?;
    Ok(StatusCode::ACCEPTED)
}
