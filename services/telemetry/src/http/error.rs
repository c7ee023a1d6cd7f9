//! Telemetry's error body, Gnocchi's JSON shape:
//! `{"code": 404, "title": "Not Found", "description": "..."}`.

use serde_json::{Value, json};
use virga_common::{ErrorReport, RequestId};

pub fn render(report: &ErrorReport, _request_id: &RequestId) -> Value {
    json!({
        "code": report.status.as_u16(),
        "title": report.title(),
        "description": report.message,
    })
}
