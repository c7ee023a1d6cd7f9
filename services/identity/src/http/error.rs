//! Identity's error body, Keystone's shape:
//! `{"error": {"code": 404, "message": "...", "title": "Not Found"}}`.

use serde_json::{Value, json};
use virga_common::{ErrorReport, RequestId};

pub fn render(report: &ErrorReport, _request_id: &RequestId) -> Value {
    json!({"error": {
        "code": report.status.as_u16(),
        "message": report.message,
        "title": report.title(),
    }})
}
