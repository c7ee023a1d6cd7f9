//! Scheduler's error body, Placement's shape:
//! `{"errors": [{"status": 404, "title": "Not Found", "detail": "...", "request_id": "req-...", "code": "placement.undefined_code"}]}`.
//! A 406 (an API version out of range) also names the range, which
//! clients such as osc-placement read to fall back to a version we speak.

use serde_json::{Value, json};
use virga_common::{ErrorReport, RequestId};

use crate::app::versions::{MAX, MIN};

pub fn render(report: &ErrorReport, request_id: &RequestId) -> Value {
    let mut error = json!({
        "status": report.status.as_u16(),
        "title": report.title(),
        "detail": report.message,
        "request_id": request_id.as_str(),
        "code": report.code.unwrap_or("placement.undefined_code"),
    });
    if report.status.as_u16() == 406 {
        error["min_version"] = json!(MIN.to_string());
        error["max_version"] = json!(MAX.to_string());
    }
    json!({"errors": [error]})
}
