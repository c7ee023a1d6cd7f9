//! The one public API error of every Virga service.
//!
//! Application code returns [`Error`]; turning it into a response attaches an
//! [`ErrorReport`] that the service's error layer renders in that service's
//! OpenStack body shape (Nova's `itemNotFound`, Keystone's `error`, ...). The
//! shape lives in one function per service; the status and the message live here.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The text OpenStack services show for any unexpected server error; the real
/// cause goes to the log only.
pub const INTERNAL_MESSAGE: &str =
    "The server has either erred or is incapable of performing the requested operation.";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed or violates a rule; the message says which.
    #[error("{0}")]
    BadRequest(String),
    /// No or invalid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated but not allowed. Another tenant's resource is `NotFound`, not this.
    #[error("{0}")]
    Forbidden(String),
    /// `kind` is the resource's type name as users see it, e.g. `Server`.
    #[error("{kind} {id} could not be found.")]
    NotFound { kind: &'static str, id: String },
    /// A 404 in the API's own words (`Flavor 1 has no extra specs with
    /// key k.`), for what is not simply a resource by id.
    #[error("{message}")]
    Missing { kind: &'static str, message: String },
    /// The resource's state or a concurrent change forbids the request.
    #[error("{0}")]
    Conflict(String),
    /// A conflict with a machine-readable code for clients that tell
    /// kinds of conflict apart (Placement's `placement.concurrent_update`).
    #[error("{message}")]
    CodedConflict { code: &'static str, message: String },
    /// The body exceeds a size limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body's media type is not one the endpoint takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A quota or rate limit is exceeded.
    #[error("{0}")]
    OverLimit(String),
    /// The API version the request asks for is not one the service speaks.
    #[error("{0}")]
    NotAcceptable(String),
    /// A dependency (database, bus, another service) is unavailable for now.
    #[error("{0}")]
    Unavailable(String),
    /// Anything unexpected. The cause is logged with its whole chain and never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(e.into())
    }

    pub fn not_found(kind: &'static str, id: impl ToString) -> Self {
        Error::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound { .. } | Error::Missing { .. } => StatusCode::NOT_FOUND,
            Error::Conflict(_) | Error::CodedConflict { .. } => StatusCode::CONFLICT,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::OverLimit(_) => StatusCode::FORBIDDEN,
            Error::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The report a service renders; for `Internal` the cause is logged here
    /// and replaced by a generic message.
    pub fn report(&self) -> ErrorReport {
        let (message, kind) = match self {
            Error::Internal(_) => {
                tracing::error!(error = %chain(self), "internal error");
                (INTERNAL_MESSAGE.to_string(), None)
            }
            Error::NotFound { kind, .. } | Error::Missing { kind, .. } => {
                (self.to_string(), Some(*kind))
            }
            Error::OverLimit(_) => (self.to_string(), Some("OverLimit")),
            _ => (self.to_string(), None),
        };
        ErrorReport {
            status: self.status(),
            message,
            resource: kind,
            code: match self {
                Error::CodedConflict { code, .. } => Some(*code),
                _ => None,
            },
        }
    }
}

/// Formats an error with all its sources: `outer: inner: innermost`.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// What a service's error renderer needs: attached to error responses as an
/// extension so that one layer per service writes every error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    pub status: StatusCode,
    pub message: String,
    /// The resource type for not-found errors, or `OverLimit` for quota errors;
    /// some shapes (Neutron's `type`) name it.
    pub resource: Option<&'static str>,
    /// A machine-readable error code, where the error has one.
    pub code: Option<&'static str>,
}

impl ErrorReport {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ErrorReport {
            status,
            message: message.into(),
            resource: None,
            code: None,
        }
    }

    /// The standard reason phrase, e.g. `Not Found`, used as a title.
    pub fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.report().into_response()
    }
}

impl IntoResponse for ErrorReport {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({"error": {"code": self.status.as_u16(), "message": self.message}});
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("query failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn internal_hides_cause_but_chain_shows_it() {
        let e = Error::internal(Outer(std::io::Error::other("disk on fire")));
        let report = e.report();
        assert_eq!(report.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!report.message.contains("disk"));
        assert_eq!(chain(&e), "internal error: query failed: disk on fire");
    }

    #[test]
    fn not_found_names_resource() {
        let r = Error::not_found("Server", "abc").report();
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.message, "Server abc could not be found.");
        assert_eq!(r.resource, Some("Server"));
        assert_eq!(r.title(), "Not Found");
    }

    #[test]
    fn response_carries_report() {
        let resp = Error::Conflict("busy".into()).into_response();
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert_eq!(
            resp.extensions().get::<ErrorReport>().unwrap().message,
            "busy"
        );
    }
}
