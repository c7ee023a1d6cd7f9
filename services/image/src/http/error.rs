//! Image's error body, the JSON form of Glance's (webob's) error:
//! `{"message": "...", "code": "404 Not Found", "title": "Not Found"}`.
//! Glance sends HTML unless asked for JSON; Virga always answers JSON.

use serde_json::{Value, json};
use virga_common::{ErrorReport, RequestId};

pub fn render(report: &ErrorReport, _request_id: &RequestId) -> Value {
    json!({
        "message": report.message,
        "code": format!("{} {}", report.status.as_u16(), report.title()),
        "title": report.title(),
    })
}
