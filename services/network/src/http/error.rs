//! Network's error body, Neutron's shape:
//! `{"NeutronError": {"type": "NetworkNotFound", "message": "...", "detail": ""}}`.

use serde_json::{Value, json};
use virga_common::{ErrorReport, RequestId};

/// Neutron names the exception class in `type`: `<Resource>NotFound` for a
/// missing resource, the code of a coded conflict (`NetworkInUse`), otherwise
/// the generic class for the status.
fn error_type(report: &ErrorReport) -> String {
    if let Some(code) = report.code {
        return code.to_owned();
    }
    match (report.status.as_u16(), report.resource) {
        (404, Some(resource)) => format!("{}NotFound", resource.replace(' ', "")),
        (400, _) if report.message.starts_with("Invalid input for operation") => {
            "InvalidInput".into()
        }
        (400, _) => "HTTPBadRequest".into(),
        (401, _) => "NotAuthorized".into(),
        (403, _) => "PolicyNotAuthorized".into(),
        (404, None) => "HTTPNotFound".into(),
        (405, _) => "HTTPMethodNotAllowed".into(),
        (409, Some("OverLimit")) => "OverQuota".into(),
        (409, _) => "Conflict".into(),
        (413, _) => "HTTPRequestEntityTooLarge".into(),
        (415, _) => "HTTPUnsupportedMediaType".into(),
        (503, _) => "ServiceUnavailable".into(),
        _ => "HTTPInternalServerError".into(),
    }
}

pub fn render(report: &ErrorReport, _request_id: &RequestId) -> Value {
    json!({"NeutronError": {
        "type": error_type(report),
        "message": report.message,
        "detail": "",
    }})
}
