//! `POST /v2/images/{image_id}/import` and `GET /v2/info/import`: Glance's
//! interoperable image import (API v2.6).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::import::{self as app, ImportRequest, Method};

/// Starts importing an image's data (202; the work is asynchronous, see
/// the image's `status` and `/v2/images/{image_id}/tasks`):
/// `{"method": {"name": "glance-direct"}}` for data staged with
/// `PUT /stage`, or `{"method": {"name": "web-download", "uri": "https://…"}}`
/// (the URL must pass the cloud's `image.web_download` rules; Virga also
/// takes `validation_data: {os_hash_algo: "sha256", os_hash_value, checksum}`
/// the downloaded data must match). `stores` and `all_stores` need edge
/// stores, which this cloud does not have yet: 409.
#[utoipa::path(post, path = "/v2/images/{image_id}/import", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    request_body(content = Object, description = "The import method"),
    security(("token" = [])),
    responses((status = 202, description = "Import started; the image is importing"),
              (status = 400, description = "Unknown or disabled method, refused URL"),
              (status = 404, description = "No such image, or import is not offered"),
              (status = 409, description = "The image is not in the state the method needs")))]
pub async fn import_image(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<StatusCode, Error> {
    app::start(&ctx, &auth, &id, parse(&body)).await?;
    Ok(StatusCode::ACCEPTED)
}

fn parse(body: &Value) -> Result<ImportRequest, Error> {
    let bad = |m: &str| Error::BadRequest(m.to_owned());
    let obj = body
        .as_object()
        .ok_or_else(|| bad("The body must be an object."))?;
    for key in obj.keys() {
        if !["method", "stores", "all_stores", "all_stores_must_succeed"].contains(&key.as_str()) {
            return Err(bad(&format!("Unknown attribute '{key}'.")));
        }
    }
    let wants_stores = obj
        .get("stores")
        .is_some_and(|s| s.as_array().is_none_or(|a| !a.is_empty()))
        || obj.get("all_stores") == Some(&Value::Bool(true));
    if wants_stores {
        return Err(Error::Conflict(
            "Multiple stores are not enabled in this cloud yet; omit 'stores' and 'all_stores'."
                .into(),
        ));
    }
    let method = obj
        .get("method")
        .ok_or_else(|| bad("The import 'method' is required."))?;
    match method.get("name").and_then(Value::as_str) {
        Some("glance-direct" | "web-download") => {}
        Some(other) => return Err(bad(&format!("Unknown import method name '{other}'."))),
        None => return Err(bad("The import method's 'name' is required.")),
    }
    let method: Method = serde_json::from_value(method.clone())
        .map_err(|e| bad(&format!("Invalid import method: {e}.")))?;
    Ok(ImportRequest { method })
}

/// The import methods this cloud offers (Glance's discovery call).
#[utoipa::path(get, path = "/v2/info/import", tag = "images",
    security(("token" = [])),
    responses((status = 200, description = "The import methods", body = Object)))]
pub async fn import_info(_auth: Auth, State(ctx): State<ServiceContext>) -> Json<Value> {
    Json(json!({"import-methods": {
        "description": "Import methods available.",
        "type": "array",
        "value": ctx.config().image.import_methods,
    }}))
}
