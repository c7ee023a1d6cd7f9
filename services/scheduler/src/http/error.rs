//! Scheduler's error body, Placement's shape:
//! `{"errors": [{"status": 404, "title": "Not Found", "detail": "...", "request_id": "req-...", "code": "placement.undefined_code"}]}`.

use serde_json::{Value, json};
use virga_common::{ErrorReport, RequestId};

pub fn render(report: &ErrorReport, request_id: &RequestId) -> Value {
    json!({"errors": [{
        "status": report.status.as_u16(),
        "title": report.title(),
        "detail": report.message,
        "request_id": request_id.as_str(),
        "code": "placement.undefined_code",
    }]})
}
