//! Renders every error response of a service in that service's OpenStack
//! shape: errors from handlers (which carry an [`ErrorReport`]) and the
//! framework's own rejections (bad JSON, unknown route, wrong method).

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use virga_common::error::INTERNAL_MESSAGE;
use virga_common::{ErrorReport, RequestId};

use crate::{Service, ServiceContext};

/// Framework rejections are short plain text; anything longer is cut.
const MAX_REJECTION_BYTES: usize = 16 * 1024;

pub async fn render<S: Service>(
    State(ctx): State<ServiceContext>,
    req: Request,
    next: Next,
) -> Response {
    let resp = render_inner::<S>(req, next).await;
    challenge(&ctx, resp)
}

/// Every 401, whoever produced it, names identity in `WWW-Authenticate`
/// as Keystone and keystonemiddleware do, so clients know where to log in.
fn challenge(ctx: &ServiceContext, mut resp: Response) -> Response {
    if resp.status() == StatusCode::UNAUTHORIZED
        && !resp.headers().contains_key(header::WWW_AUTHENTICATE)
        && let Ok(v) =
            HeaderValue::from_str(&format!("Keystone uri=\"{}\"", ctx.auth().identity_url()))
    {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

async fn render_inner<S: Service>(req: Request, next: Next) -> Response {
    let id = req
        .extensions()
        .get::<RequestId>()
        .cloned()
        .unwrap_or_default();
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let report = match resp.extensions().get::<ErrorReport>() {
        Some(report) => report.clone(),
        None if is_json(&resp) => return resp,
        None => {
            // A bare status from a handler or an extractor rejection: its
            // headers (Content-Range on a 416, Allow on a 405) still apply.
            let (parts, body) = resp.into_parts();
            let text = to_bytes(body, MAX_REJECTION_BYTES)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&text).trim().to_string();
            let message = if status.is_server_error() || text.is_empty() {
                // A 5xx from below may carry internals; it is replaced, never shown.
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    INTERNAL_MESSAGE.to_string()
                } else {
                    status.canonical_reason().unwrap_or("Error").to_string()
                }
            } else {
                text
            };
            // axum rejects a well-formed body of the wrong shape with 422;
            // OpenStack APIs answer a body that fails validation with 400.
            let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
                StatusCode::BAD_REQUEST
            } else {
                status
            };
            let report = ErrorReport::new(status, message);
            return finish(
                report.status,
                S::render_error(&report, &id),
                Some(parts.headers),
            );
        }
    };
    let (parts, _) = resp.into_parts();
    finish(status, S::render_error(&report, &id), Some(parts.headers))
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

fn finish(
    status: StatusCode,
    body: serde_json::Value,
    headers: Option<axum::http::HeaderMap>,
) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    if let Some(headers) = headers {
        // Keep what the handler set (WWW-Authenticate, Allow, ...), not its body's length.
        for (name, value) in headers.iter() {
            if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
                resp.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }
    resp
}

/// A handler panic is a bug: it is logged and answered as a generic 500.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic payload".into());
    tracing::error!(panic = %detail, "handler panicked");
    let mut resp = Response::new(Body::from(INTERNAL_MESSAGE));
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}
