//! `/v2/images`: create, list, show and delete images' metadata, in
//! Glance's shapes (every core field present, null when unset; extra
//! properties as top-level strings; relative `self` / `file` / `schema`).

pub(crate) mod body;
mod patch;
mod query;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::glance_time;
use crate::app::image::{self as app, ImageDoc};
use crate::db::listing::ListRequest;

/// The image as Glance shows it.
pub fn view(d: &ImageDoc) -> Value {
    let m = &d.model;
    let mut out = Map::new();
    for (k, v) in &d.properties {
        out.insert(k.clone(), Value::String(v.clone()));
    }
    let core = json!({
        "id": m.id, "name": m.name, "status": m.status, "visibility": m.visibility,
        "protected": m.protected, "os_hidden": m.os_hidden, "owner": m.owner,
        "checksum": m.checksum, "os_hash_algo": m.os_hash_algo, "os_hash_value": m.os_hash_value,
        "size": m.size, "virtual_size": m.virtual_size, "min_ram": m.min_ram,
        "min_disk": m.min_disk, "disk_format": m.disk_format,
        "container_format": m.container_format, "created_at": glance_time(&m.created_at),
        "updated_at": glance_time(&m.updated_at), "tags": d.tags,
        "self": format!("/v2/images/{}", m.id), "file": format!("/v2/images/{}/file", m.id),
        "schema": "/v2/schemas/image",
    });
    if let Value::Object(core) = core {
        out.extend(core);
    }
    if let Some(stores) = &d.stores {
        out.insert("stores".into(), Value::String(stores.join(",")));
    }
    Value::Object(out)
}

/// Creates an image record (status `queued`; upload its data next).
/// Visibility defaults to `shared`; `public` needs admin. Read-only or
/// reserved attributes are 403, bad values 400, a taken id 409.
#[utoipa::path(post, path = "/v2/images", tag = "images",
    request_body(content = Object, description = "Image attributes and extra properties"),
    security(("token" = [])),
    responses((status = 201, description = "Created", body = Object,
               headers(("Location" = String, description = "The image's URL"),
                       ("OpenStack-image-import-methods" = String, description = "The import methods offered, comma-separated"),
                       ("OpenStack-image-store-ids" = String, description = "The stores, comma-separated, when the cloud has edge-site stores"))),
              (status = 400, description = "A bad value"),
              (status = 403, description = "Read-only or reserved attribute, or not allowed"),
              (status = 409, description = "The id is taken")))]
pub async fn create_image(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, Error> {
    let Value::Object(body) = body else {
        return Err(Error::BadRequest(
            "Unexpected body type. Expected dict.".into(),
        ));
    };
    let d = app::create(&ctx, &auth, body::new_image(body)?).await?;
    let location = format!("{}/v2/images/{}", ctx.base_url(&headers), d.model.id);
    let mut resp = (StatusCode::CREATED, Json(view(&d))).into_response();
    resp.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).map_err(Error::internal)?,
    );
    if crate::app::stores::multi(&ctx) {
        let ids = crate::app::stores::ids(&ctx).join(",");
        resp.headers_mut().insert(
            "openstack-image-store-ids",
            HeaderValue::from_str(&ids).map_err(Error::internal)?,
        );
    }
    let methods = ctx.config().image.import_methods.join(",");
    if !methods.is_empty() {
        resp.headers_mut().insert(
            "openstack-image-import-methods",
            HeaderValue::from_str(&methods).map_err(Error::internal)?,
        );
    }
    Ok(resp)
}

/// Lists the images the caller may see (its project's, public ones,
/// shared ones it accepted; community ones when `visibility` asks), with
/// Glance's filters (`name`, `status`, `visibility`, `owner`, repeatable
/// `tag`, `size_min`/`size_max`, `created_at`/`updated_at` with
/// `gt:`..., `in:` lists, extra properties), sorting and `marker`/`limit`.
#[utoipa::path(get, path = "/v2/images", tag = "images",
    params(("limit" = Option<u64>, Query, description = "Page size (default 25, at most 1000)"),
           ("marker" = Option<String>, Query, description = "The last image of the previous page"),
           ("sort" = Option<String>, Query, description = "key[:dir],... (dir default desc)")),
    security(("token" = [])),
    responses((status = 200, description = "Images", body = Object),
              (status = 400, description = "A bad filter, sort or marker")))]
pub async fn list_images(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let p = query::parse(&pairs)?;
    let marker = match &p.marker {
        Some(id) => Some(app::marker(&ctx, &auth, id).await?),
        None => None,
    };
    let req = ListRequest {
        sort: p.sort,
        limit: p.limit,
        marker,
    };
    let docs = app::list(&ctx, &auth, &p.filter, &req).await?;
    let others: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "marker").collect();
    let encode = virga_common::pagination::query_string;
    let first = if others.is_empty() {
        "/v2/images".to_owned()
    } else {
        format!("/v2/images?{}", encode(&others))
    };
    let mut out = json!({
        "images": docs.iter().map(view).collect::<Vec<_>>(),
        "first": first,
        "schema": "/v2/schemas/images",
    });
    if p.limit > 0
        && docs.len() as u64 == p.limit
        && let Some(last) = docs.last()
    {
        let mut next = others;
        next.push(("marker".into(), last.model.id.clone()));
        out["next"] = Value::String(format!("/v2/images?{}", encode(&next)));
    }
    Ok(Json(out))
}

/// Shows an image the caller may see; any other is 404.
#[utoipa::path(get, path = "/v2/images/{image_id}", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    security(("token" = [])),
    responses((status = 200, description = "The image", body = Object),
              (status = 404, description = "No such image, or not visible")))]
pub async fn show_image(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    Ok(Json(view(&app::get(&ctx, &auth, &id).await?)))
}

/// Deletes an image (its owner's members, or admin); a protected image is 403.
#[utoipa::path(delete, path = "/v2/images/{image_id}", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 403, description = "Protected, or not the owner"),
              (status = 404, description = "No such image, or not visible")))]
pub async fn delete_image(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes an image with a JSON patch (`Content-Type:
/// application/openstack-images-v2.1-json-patch`, or 2.0): `add` /
/// `replace` / `remove` on `/name`, `/tags`, `/visibility`, an extra
/// property... Another media type is 415.
#[utoipa::path(patch, path = "/v2/images/{image_id}", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    request_body(content = Vec<Object>, content_type = "application/openstack-images-v2.1-json-patch"),
    security(("token" = [])),
    responses((status = 200, description = "The changed image", body = Object),
              (status = 400, description = "A malformed patch or value"),
              (status = 403, description = "Read-only, reserved or not allowed"),
              (status = 409, description = "Replacing or removing a property that does not exist"),
              (status = 415, description = "Not a JSON patch media type")))]
pub async fn update_image(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Response, Error> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    if !patch::MEDIA_TYPES.contains(&media) {
        let mut resp = Error::UnsupportedMediaType(format!(
            "Unsupported Content-Type {media:?}: use {}.",
            patch::MEDIA_TYPES[0]
        ))
        .into_response();
        resp.headers_mut().insert(
            "Accept-Patch",
            HeaderValue::from_static(
                "application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch",
            ),
        );
        return Ok(resp);
    }
    let d = crate::app::image_patch::update(&ctx, &auth, &id, patch::changes(&raw)?).await?;
    Ok(Json(view(&d)).into_response())
}

/// Adds a tag to an image (idempotent).
#[utoipa::path(put, path = "/v2/images/{image_id}/tags/{tag}", tag = "images",
    params(("image_id" = String, Path, description = "The image"),
           ("tag" = String, Path, description = "The tag")),
    security(("token" = [])),
    responses((status = 204, description = "Tagged"),
              (status = 400, description = "A tag longer than 255 characters")))]
pub async fn add_tag(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((id, tag)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    if tag.chars().count() > 255 {
        return Err(body::bad("tag", "at most 255 characters."));
    }
    crate::app::image_patch::add_tag(&ctx, &auth, &id, &tag).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a tag; a tag the image does not have is 404.
#[utoipa::path(delete, path = "/v2/images/{image_id}/tags/{tag}", tag = "images",
    params(("image_id" = String, Path, description = "The image"),
           ("tag" = String, Path, description = "The tag")),
    security(("token" = [])),
    responses((status = 204, description = "Removed"),
              (status = 404, description = "No such image or tag")))]
pub async fn remove_tag(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((id, tag)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    crate::app::image_patch::remove_tag(&ctx, &auth, &id, &tag).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deactivates an active image: its data cannot be downloaded until it is
/// reactivated (an image being investigated, say).
#[utoipa::path(post, path = "/v2/images/{image_id}/actions/deactivate", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    security(("token" = [])),
    responses((status = 204, description = "Deactivated (or was)"),
              (status = 403, description = "Not active, or not allowed")))]
pub async fn deactivate_image(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    crate::app::image_patch::set_active(&ctx, &auth, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reactivates a deactivated image.
#[utoipa::path(post, path = "/v2/images/{image_id}/actions/reactivate", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    security(("token" = [])),
    responses((status = 204, description = "Active (or was)"),
              (status = 403, description = "Not deactivated, or not allowed")))]
pub async fn reactivate_image(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    crate::app::image_patch::set_active(&ctx, &auth, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}
