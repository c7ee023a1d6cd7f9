//! `/v2.0/extensions`: the API extensions implemented here, and one by alias.

use axum::Json;
use axum::extract::Path;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::auth::Auth;

use crate::app::extension;

/// Lists the extensions this service implements (and only those).
#[utoipa::path(get, path = "/v2.0/extensions", tag = "extensions",
    security(("token" = [])),
    responses((status = 200, description = "The extensions", body = Object)))]
pub async fn list_extensions(_auth: Auth) -> Json<Value> {
    Json(json!({ "extensions": extension::all() }))
}

/// Shows one extension by alias; 404 for one not implemented.
#[utoipa::path(get, path = "/v2.0/extensions/{alias}", tag = "extensions",
    params(("alias" = String, Path, description = "The extension's alias")),
    security(("token" = [])),
    responses((status = 200, description = "The extension", body = Object),
              (status = 404, description = "Not implemented here")))]
pub async fn show_extension(_auth: Auth, Path(alias): Path<String>) -> Result<Json<Value>, Error> {
    let e = extension::find(&alias).ok_or_else(|| Error::not_found("Extension", &alias))?;
    Ok(Json(json!({ "extension": e })))
}
