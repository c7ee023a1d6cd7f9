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
/// the downloaded data must match), or `{"method": {"name": "copy-image"}}`
/// for an active image. `stores: [...]` or `all_stores: true` (API v2.8)
/// name edge sites' stores to copy the data to, as `/v2/info/stores` lists
/// them; with `all_stores_must_succeed` (default true) one site's failure
/// undoes the others. Progress per site: `/v2/images/{image_id}/stores`.
#[utoipa::path(post, path = "/v2/images/{image_id}/import", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    request_body(content = Object, description = "The import method"),
    security(("token" = [])),
    responses((status = 202, description = "Import started; the image is importing"),
              (status = 400, description = "Unknown or disabled method, refused URL"),
              (status = 404, description = "No such image, or import is not offered"),
              (status = 409, description = "The image is not in the state the method needs, an unknown store, or a copy already under way")))]
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
    let stores: Vec<String> = match obj.get("stores") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("'stores' must be a list of store ids."))?,
        Some(_) => return Err(bad("'stores' must be a list of store ids.")),
    };
    let flag = |k: &str, default: bool| match obj.get(k) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(&format!("'{k}' must be a boolean."))),
    };
    let all_stores = flag("all_stores", false)?;
    let all_stores_must_succeed = flag("all_stores_must_succeed", true)?;
    if all_stores && !stores.is_empty() {
        return Err(bad("'all_stores' and 'stores' cannot be used together."));
    }
    let method = obj
        .get("method")
        .ok_or_else(|| bad("The import 'method' is required."))?;
    match method.get("name").and_then(Value::as_str) {
        Some("glance-direct" | "web-download" | "copy-image") => {}
        Some(other) => return Err(bad(&format!("Unknown import method name '{other}'."))),
        None => return Err(bad("The import method's 'name' is required.")),
    }
    let method: Method = serde_json::from_value(method.clone())
        .map_err(|e| bad(&format!("Invalid import method: {e}.")))?;
    Ok(ImportRequest {
        method,
        stores,
        all_stores,
        all_stores_must_succeed,
        targets: Vec::new(),
    })
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
