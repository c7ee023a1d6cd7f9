//! Compute's error body, Nova's fault shape:
//! `{"itemNotFound": {"code": 404, "message": "..."}}`.

use serde_json::{Value, json};
use virga_common::{ErrorReport, RequestId};

/// Nova's fault name for a status; anything unlisted is a `computeFault`.
fn fault_name(status: u16) -> &'static str {
    match status {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "itemNotFound",
        405 => "badMethod",
        409 => "conflictingRequest",
        413 | 429 => "overLimit",
        415 => "badMediaType",
        501 => "notImplemented",
        503 => "serviceUnavailable",
        _ => "computeFault",
    }
}

pub fn render(report: &ErrorReport, _request_id: &RequestId) -> Value {
    let code = report.status.as_u16();
    let mut body = serde_json::Map::new();
    body.insert(
        fault_name(code).into(),
        json!({"code": code, "message": report.message}),
    );
    Value::Object(body)
}
