//! `/traits`, `/traits/{name}` and `/resource_providers/{uuid}/traits`
//! (microversion 1.6).

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body;
use super::microversion::Microversion;
use crate::app::enforce;
use crate::app::traits::{self as app, NameFilter};

/// `in:A,B` or `startswith:PREFIX`.
fn name_filter(raw: &str) -> Result<NameFilter, Error> {
    if let Some(list) = raw.strip_prefix("in:") {
        return Ok(NameFilter::In(
            list.split(',').map(|s| s.trim().to_owned()).collect(),
        ));
    }
    if let Some(prefix) = raw.strip_prefix("startswith:") {
        return Ok(NameFilter::StartsWith(prefix.to_owned()));
    }
    Err(Error::BadRequest(format!(
        "Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: \"{raw}\""
    )))
}

/// Every trait, by `name=in:A,B` / `name=startswith:P` and `associated`.
#[utoipa::path(get, path = "/traits", tag = "traits",
    params(("name" = Option<String>, Query, description = "in:A,B or startswith:PREFIX"),
           ("associated" = Option<bool>, Query, description = "Only traits some provider has (true) or none has (false)")),
    security(("token" = [])),
    responses((status = 200, description = "The traits", body = Object),
              (status = 400, description = "A bad query parameter")))]
pub async fn list_traits(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    v.require(6)?;
    enforce(&auth, "traits")?;
    body::query(&q, &["name", "associated"])?;
    let name = body::param(&q, "name").map(name_filter).transpose()?;
    let associated = match body::param(&q, "associated") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(x) => {
            return Err(Error::BadRequest(format!(
                "Invalid query string parameters: 'associated' must be true or false, got '{x}'"
            )));
        }
    };
    Ok(Json(
        json!({"traits": app::list(&ctx, name.as_ref(), associated).await?}),
    ))
}

/// Creates a custom trait: 201, or 204 when it exists.
#[utoipa::path(put, path = "/traits/{name}", tag = "traits",
    params(("name" = String, Path, description = "CUSTOM_...")),
    security(("token" = [])),
    responses((status = 201, description = "Created", headers(("Location" = String, description = "The trait's URL"))),
              (status = 204, description = "It exists"),
              (status = 400, description = "Not a CUSTOM_ name")))]
pub async fn create_trait(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, Error> {
    v.require(6)?;
    enforce(&auth, "traits")?;
    let status = if app::create(&ctx, &name).await? {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    };
    let location = format!("{}/traits/{name}", ctx.base_url(&headers));
    let resp = status.into_response();
    super::located(resp, &location)
}

/// Whether a trait exists: 204, or 404.
#[utoipa::path(get, path = "/traits/{name}", tag = "traits",
    params(("name" = String, Path, description = "The trait")),
    security(("token" = [])),
    responses((status = 204, description = "It exists"),
              (status = 404, description = "No such trait")))]
pub async fn show_trait(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(name): Path<String>,
) -> Result<StatusCode, Error> {
    v.require(6)?;
    enforce(&auth, "traits")?;
    if app::exists(&ctx, &name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound {
            kind: "trait",
            id: name,
        })
    }
}

/// Deletes a custom trait no provider has (400 for a standard one, 409
/// while in use).
#[utoipa::path(delete, path = "/traits/{name}", tag = "traits",
    params(("name" = String, Path, description = "The trait")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 400, description = "A standard trait"),
              (status = 404, description = "No such trait"),
              (status = 409, description = "A provider has it")))]
pub async fn delete_trait(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(name): Path<String>,
) -> Result<StatusCode, Error> {
    v.require(6)?;
    enforce(&auth, "traits")?;
    app::delete(&ctx, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn provider_view(traits: Vec<String>, generation: i64) -> Json<Value> {
    Json(json!({"traits": traits, "resource_provider_generation": generation}))
}

/// A provider's traits and generation.
#[utoipa::path(get, path = "/resource_providers/{uuid}/traits", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    security(("token" = [])),
    responses((status = 200, description = "Traits", body = Object),
              (status = 404, description = "No such provider")))]
pub async fn list_provider_traits(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, Error> {
    v.require(6)?;
    enforce(&auth, "resource_provider_traits")?;
    let (traits, g) = app::of_provider(&ctx, &uuid).await?;
    Ok(provider_view(traits, g))
}

/// Sets a provider's traits (`{traits, resource_provider_generation}`).
#[utoipa::path(put, path = "/resource_providers/{uuid}/traits", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    request_body(content = Object, description = "{traits: [...], resource_provider_generation}"),
    security(("token" = [])),
    responses((status = 200, description = "Traits", body = Object),
              (status = 400, description = "A bad body or an unknown trait"),
              (status = 404, description = "No such provider"),
              (status = 409, description = "A stale generation")))]
pub async fn set_provider_traits(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    v.require(6)?;
    enforce(&auth, "resource_provider_traits")?;
    let obj = body::object(&b, &["traits", "resource_provider_generation"])?;
    let g = body::int(
        "resource_provider_generation",
        body::required(obj, "resource_provider_generation")?,
        0,
        i64::MAX,
    )?;
    let list = body::required(obj, "traits")?
        .as_array()
        .ok_or_else(|| body::invalid("'traits' is not of type 'array'"))?;
    let mut traits = Vec::new();
    for t in list {
        let name = body::string("traits", t, 255)?;
        if !name
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
        {
            return Err(body::invalid(format!(
                "'{name}' does not match '^[A-Z0-9_]+$' ('traits')"
            )));
        }
        if traits.contains(&name) {
            return Err(body::invalid(format!(
                "'traits' has non-unique elements ({name})"
            )));
        }
        traits.push(name);
    }
    let (traits, g) = app::set_for_provider(&ctx, &uuid, Some(g), traits).await?;
    Ok(provider_view(traits, g))
}

/// Removes all of a provider's traits.
#[utoipa::path(delete, path = "/resource_providers/{uuid}/traits", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    security(("token" = [])),
    responses((status = 204, description = "Removed"),
              (status = 404, description = "No such provider"),
              (status = 409, description = "A concurrent change")))]
pub async fn delete_provider_traits(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(uuid): Path<String>,
) -> Result<StatusCode, Error> {
    v.require(6)?;
    enforce(&auth, "resource_provider_traits")?;
    app::set_for_provider(&ctx, &uuid, None, Vec::new()).await?;
    Ok(StatusCode::NO_CONTENT)
}
