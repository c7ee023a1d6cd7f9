//! `/resource_classes` and `/resource_classes/{name}` (microversion 1.2).

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body;
use super::microversion::Microversion;
use crate::app::enforce;
use crate::app::resource_class as app;

fn view(name: &str) -> Value {
    json!({"name": name, "links": [{"rel": "self", "href": format!("/resource_classes/{name}")}]})
}

/// Every resource class, standard and custom.
#[utoipa::path(get, path = "/resource_classes", tag = "resource_classes",
    security(("token" = [])),
    responses((status = 200, description = "The classes", body = Object)))]
pub async fn list_resource_classes(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
) -> Result<Json<Value>, Error> {
    v.require(2)?;
    enforce(&auth, "resource_classes")?;
    let all = app::list(&ctx).await?;
    Ok(Json(
        json!({"resource_classes": all.iter().map(|n| view(n)).collect::<Vec<_>>()}),
    ))
}

/// Creates a custom class (`{"name": "CUSTOM_..."}`): 201.
#[utoipa::path(post, path = "/resource_classes", tag = "resource_classes",
    request_body(content = Object, description = "{name}"),
    security(("token" = [])),
    responses((status = 201, description = "Created", headers(("Location" = String, description = "The class's URL"))),
              (status = 400, description = "Not a CUSTOM_ name"),
              (status = 409, description = "It exists")))]
pub async fn create_resource_class(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Json(b): Json<Value>,
) -> Result<Response, Error> {
    v.require(2)?;
    enforce(&auth, "resource_classes")?;
    let obj = body::object(&b, &["name"])?;
    let name = body::string("name", body::required(obj, "name")?, 255)?;
    app::create(&ctx, &name).await?;
    let location = format!("{}/resource_classes/{name}", ctx.base_url(&headers));
    let resp = StatusCode::CREATED.into_response();
    super::located(resp, &location)
}

/// Before 1.7, renames a custom class (`{"name": "CUSTOM_..."}`; its
/// inventories and allocations follow): 200 with the class. From 1.7,
/// makes sure a custom class exists: 201 when created, 204 when it was
/// there.
#[utoipa::path(put, path = "/resource_classes/{name}", tag = "resource_classes",
    params(("name" = String, Path, description = "CUSTOM_...")),
    request_body(content = Object, description = "Before 1.7 only: {name}, the new name"),
    security(("token" = [])),
    responses((status = 200, description = "Renamed (1.2 to 1.6)", body = Object),
              (status = 201, description = "Created (1.7)", headers(("Location" = String, description = "The class's URL"))),
              (status = 204, description = "It exists (1.7)"),
              (status = 400, description = "Not a CUSTOM_ name, or a standard class"),
              (status = 404, description = "No such class (1.2 to 1.6)"),
              (status = 409, description = "The new name exists (1.2 to 1.6)"),
              (status = 415, description = "No JSON body (1.2 to 1.6)")))]
pub async fn ensure_resource_class(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(name): Path<String>,
    b: Option<Json<Value>>,
) -> Result<Response, Error> {
    v.require(2)?;
    enforce(&auth, "resource_classes")?;
    if !v.at_least(7) {
        let Some(Json(b)) = b else {
            return Err(Error::UnsupportedMediaType(
                "The media type None is not supported, use application/json".into(),
            ));
        };
        let obj = body::object(&b, &["name"])?;
        let new = body::string("name", body::required(obj, "name")?, 255)?;
        app::rename(&ctx, &name, &new).await?;
        return Ok(Json(view(&new)).into_response());
    }
    let status = if app::ensure(&ctx, &name).await? {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    };
    let resp = status.into_response();
    let location = format!("{}/resource_classes/{name}", ctx.base_url(&headers));
    super::located(resp, &location)
}

/// Shows a class.
#[utoipa::path(get, path = "/resource_classes/{name}", tag = "resource_classes",
    params(("name" = String, Path, description = "The class")),
    security(("token" = [])),
    responses((status = 200, description = "The class", body = Object),
              (status = 404, description = "No such class")))]
pub async fn show_resource_class(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Error> {
    v.require(2)?;
    enforce(&auth, "resource_classes")?;
    Ok(Json(view(&app::get(&ctx, &name).await?)))
}

/// Deletes a custom class no inventory uses (400 for a standard one, 409
/// while in use).
#[utoipa::path(delete, path = "/resource_classes/{name}", tag = "resource_classes",
    params(("name" = String, Path, description = "The class")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 400, description = "A standard class"),
              (status = 404, description = "No such class"),
              (status = 409, description = "An inventory uses it")))]
pub async fn delete_resource_class(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(name): Path<String>,
) -> Result<StatusCode, Error> {
    v.require(2)?;
    enforce(&auth, "resource_classes")?;
    app::delete(&ctx, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
