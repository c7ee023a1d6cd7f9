//! Gives every request an id (`X-Openstack-Request-Id`), a tracing span
//! carrying it, and one log line when it completes.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use virga_common::RequestId;
use virga_common::request_id::REQUEST_ID_HEADER;

use crate::Service;

pub async fn assign<S: Service>(mut req: Request, next: Next) -> Response {
    let inbound = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok());
    let id = RequestId::from_inbound(inbound);
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request done"
        )
    });
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        if let Some(compat) = S::REQUEST_ID_COMPAT_HEADER {
            resp.headers_mut().insert(compat, v.clone());
        }
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    resp
}
