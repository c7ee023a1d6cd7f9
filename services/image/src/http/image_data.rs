//! `/v2/images/{image_id}/file`: uploading and downloading image data.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::image_data as app;
use crate::app::stage;
use crate::store::ByteStream;

/// Uploads an image's data (`Content-Type: application/octet-stream`),
/// streamed to the store while its md5 `checksum` and sha256
/// `os_hash_value` are computed and its head is inspected: queued -> saving
/// -> active. A body that does not match `X-OpenStack-Image-Size` (or
/// `Content-Length`) or `Content-MD5`, or whose content is not the declared
/// `disk_format` (or is an unsafe qcow2/vmdk), is 400 and the image is
/// `queued` again; an image not `queued` is 409.
#[utoipa::path(put, path = "/v2/images/{image_id}/file", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("token" = [])),
    responses((status = 204, description = "Stored; the image is active"),
              (status = 400, description = "Formats unset; size, md5 or format does not match; unsafe content"),
              (status = 409, description = "The image is not queued"),
              (status = 413, description = "Larger than the size cap"),
              (status = 415, description = "Not application/octet-stream")))]
pub async fn upload_image_data(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<StatusCode, Error> {
    let (size, md5) = data_headers(&headers)?;
    app::upload(&ctx, &auth, &id, stream(body), size, md5).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stages an image's data for a `glance-direct` import (queued ->
/// uploading), checked as an upload is; it is not downloadable until the
/// import. 404 when glance-direct is not offered.
#[utoipa::path(put, path = "/v2/images/{image_id}/stage", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("token" = [])),
    responses((status = 204, description = "Staged; the image is uploading"),
              (status = 400, description = "Size, md5 or format does not match; unsafe content"),
              (status = 404, description = "No such image, or glance-direct is not offered"),
              (status = 409, description = "The image is not queued"),
              (status = 413, description = "Larger than the size cap"),
              (status = 415, description = "Not application/octet-stream")))]
pub async fn stage_image_data(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<StatusCode, Error> {
    let (size, md5) = data_headers(&headers)?;
    stage::stage(&ctx, &auth, &id, stream(body), size, md5).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn stream(body: Body) -> ByteStream {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

/// An upload's media type (415 unless octet-stream), announced size
/// (`X-OpenStack-Image-Size`, else `Content-Length`) and declared md5.
fn data_headers(headers: &HeaderMap) -> Result<(Option<u64>, Option<String>), Error> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if media.split(';').next().map(str::trim) != Some("application/octet-stream") {
        return Err(Error::UnsupportedMediaType(format!(
            "Unsupported Content-Type {media:?}: image data is application/octet-stream."
        )));
    }
    let size = |name: &str| -> Result<Option<u64>, Error> {
        headers
            .get(name)
            .map(|v| {
                v.to_str()
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| Error::BadRequest(format!("{name} is not a size.")))
            })
            .transpose()
    };
    let expected = match size("x-openstack-image-size")? {
        Some(s) => Some(s),
        None => size("content-length")?,
    };
    Ok((expected, content_md5(headers)?))
}

/// A declared md5 from `Content-MD5`, as hex: RFC 1864 says base64, Glance
/// sends hex, so either is read.
pub fn content_md5(headers: &HeaderMap) -> Result<Option<String>, Error> {
    use base64::Engine;
    let Some(v) = headers.get("content-md5") else {
        return Ok(None);
    };
    let v = v.to_str().unwrap_or("").trim();
    if v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Some(v.to_ascii_lowercase()));
    }
    match base64::engine::general_purpose::STANDARD.decode(v) {
        Ok(d) if d.len() == 16 => Ok(Some(crate::app::ingest::hex(&d))),
        _ => Err(Error::BadRequest(
            "Content-MD5 is neither a hex nor a base64 md5.".into(),
        )),
    }
}

/// Downloads an image's data, whole (200) or one `Range` (206; 416 when
/// outside the data); 204 when it has none yet. `Content-MD5` is the hex
/// md5, as Glance sends it.
#[utoipa::path(get, path = "/v2/images/{image_id}/file", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    security(("token" = [])),
    responses((status = 200, description = "The data", content_type = "application/octet-stream"),
              (status = 204, description = "No data yet"),
              (status = 206, description = "The requested range"),
              (status = 403, description = "The image is deactivated"),
              (status = 416, description = "Range not satisfiable")))]
pub async fn download_image_data(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    render(app::download(&ctx, &auth, &id, range).await?)
}

/// The query of a signed download URL.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct Signed {
    /// When the URL stops working (Unix seconds).
    pub expires: i64,
    /// HMAC-SHA256 of the image id, its sha256 and `expires` (hex).
    pub signature: String,
}

/// Virga's: downloads an image's data by a signed URL, as
/// `GET /v2/images/{id}/locations` hands them to nodes — no token; the
/// signature names the image and its content and expires. Range and
/// answers as `GET /file`; 403 for a bad or expired signature.
#[utoipa::path(get, path = "/v2/images/{image_id}/signed-file", tag = "images",
    params(("image_id" = String, Path, description = "The image"), Signed),
    responses((status = 200, description = "The data", content_type = "application/octet-stream"),
              (status = 206, description = "The requested range"),
              (status = 403, description = "Signature invalid or expired; image deactivated"),
              (status = 416, description = "Range not satisfiable")))]
pub async fn download_signed_image_data(
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Signed>,
) -> Result<Response, Error> {
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    render(app::download_signed(&ctx, &id, q.expires, &q.signature, range).await?)
}

/// Virga's: uploads the data of a queued image by a signed upload URL
/// (`POST /v2/images/{id}/upload-url` gives them to services) — no token;
/// checked and stored as `PUT /file`. 403 for a bad or expired signature.
#[utoipa::path(put, path = "/v2/images/{image_id}/signed-file", tag = "images",
    params(("image_id" = String, Path, description = "The image"), Signed),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204, description = "Stored; the image is active"),
              (status = 400, description = "Size, md5 or format does not match; unsafe content"),
              (status = 403, description = "Signature invalid or expired"),
              (status = 409, description = "The image is not queued"),
              (status = 413, description = "Larger than the size cap"),
              (status = 415, description = "Not application/octet-stream")))]
pub async fn upload_signed_image_data(
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Signed>,
    body: Body,
) -> Result<StatusCode, Error> {
    let (size, md5) = data_headers(&headers)?;
    app::upload_signed(&ctx, &id, q.expires, &q.signature, stream(body), size, md5).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Virga's, for services: a signed URL that uploads a queued image's data
/// without a token (how a node sends a server's disk for a resize or a
/// migration). 403 for other callers, 409 unless the image is queued.
#[utoipa::path(post, path = "/v2/images/{image_id}/upload-url", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    security(("token" = [])),
    responses((status = 200, description = "{url, expires_at}", body = Object),
              (status = 403, description = "Not a service"),
              (status = 404, description = "No such image"),
              (status = 409, description = "The image is not queued")))]
pub async fn create_upload_url(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<axum::Json<serde_json::Value>, Error> {
    let (url, expires) = crate::app::location::upload_url(&ctx, &auth, &id).await?;
    let at = chrono::DateTime::from_timestamp(expires, 0).unwrap_or_default();
    Ok(axum::Json(serde_json::json!({
        "url": url,
        "expires_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })))
}

fn render(d: Result<app::Download, app::Unsatisfiable>) -> Result<Response, Error> {
    let d = match d {
        Ok(d) => d,
        Err(unsatisfiable) => {
            let mut resp = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            let v = format!("bytes */{}", unsatisfiable.size);
            resp.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&v).map_err(Error::internal)?,
            );
            return Ok(resp);
        }
    };
    let Some(body) = d.body else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let status = if d.partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut resp = (status, Body::from_stream(body)).into_response();
    let h = resp.headers_mut();
    let value = |s: String| HeaderValue::from_str(&s).map_err(Error::internal);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CONTENT_LENGTH,
        value((d.end - d.start).to_string())?,
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(md5) = d.md5 {
        h.insert("content-md5", value(md5)?);
    }
    if d.partial {
        h.insert(
            header::CONTENT_RANGE,
            value(format!("bytes {}-{}/{}", d.start, d.end - 1, d.size))?,
        );
    }
    Ok(resp)
}
