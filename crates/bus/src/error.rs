//! The errors of the bus: what a sender gets back ([`BusError`]) and what a
//! handler returns to decide a message's fate ([`HandlerError`]).

use crate::envelope::DecodeError;

/// Why a bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The handler answered the call with an error.
    #[error("remote error {code}: {message}")]
    Remote { code: String, message: String },
    /// No reply came before the call's timeout.
    #[error("no reply before the timeout")]
    Timeout,
    /// The broker could not be reached (or the connection was lost while a
    /// call waited for its reply) within the operation's timeout.
    #[error("message broker unavailable")]
    Unavailable(#[source] Option<lapin::Error>),
    /// No queue exists for the topic, so the message could not be routed.
    #[error("no queue for topic `{0}`")]
    NoRoute(String),
    /// The broker refused to take responsibility for the message (nack).
    #[error("the broker refused the message")]
    Refused,
    /// The bus was closed with [`crate::Bus::close_abruptly`].
    #[error("the bus is closed")]
    Closed,
    /// A topic, group, pattern or event name the broker cannot carry, or a
    /// topic in a namespace the bus keeps for itself.
    #[error(
        "invalid bus name `{0}`: must be 1-200 bytes, not start with `amq.`, and a topic must not start with `notify.` or `virga.`"
    )]
    InvalidName(String),
    #[error("unsupported bus url `{0}`: expected `memory` or an amqp:// or amqps:// URL")]
    InvalidUrl(String),
    /// The first connection to the broker failed.
    #[error("cannot connect to the message broker")]
    Connect(#[source] lapin::Error),
    /// The broker rejected an operation.
    #[error("message broker operation failed")]
    Broker(#[source] lapin::Error),
    /// A queue exists with other settings than this bus declares (e.g.
    /// another delivery limit); RabbitMQ refuses such a re-declaration, and
    /// the in-process broker does the same so that both behave alike.
    #[error("queue settings differ from the existing queue: {0}")]
    Mismatch(String),
    #[error("received a malformed reply")]
    MalformedReply(#[source] DecodeError),
}

impl BusError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BusError::Timeout | BusError::Unavailable(_) | BusError::Refused
        )
    }
}

impl From<BusError> for virga_common::Error {
    /// Remote errors keep their API meaning where the code names a variant
    /// that carries a message; `NotFound` cannot (its resource kind is
    /// static), so callers expecting it match `BusError::Remote` first.
    /// Anything that did not come from the remote handler is the bus's
    /// fault and shows as a temporarily unavailable service.
    fn from(e: BusError) -> Self {
        match e {
            BusError::Remote { code, message } => match code.as_str() {
                "BadRequest" => virga_common::Error::BadRequest(message),
                "Unauthorized" => virga_common::Error::Unauthorized(message),
                "Forbidden" => virga_common::Error::Forbidden(message),
                "PayloadTooLarge" => virga_common::Error::PayloadTooLarge(message),
                "UnsupportedMediaType" => virga_common::Error::UnsupportedMediaType(message),
                "Conflict" => virga_common::Error::Conflict(message),
                "OverLimit" => virga_common::Error::OverLimit(message),
                "NotAcceptable" => virga_common::Error::NotAcceptable(message),
                "Unavailable" => virga_common::Error::Unavailable(message),
                _ => virga_common::Error::internal(BusError::Remote { code, message }),
            },
            e if e.is_transient() || matches!(e, BusError::NoRoute(_) | BusError::Closed) => {
                virga_common::Error::Unavailable(e.to_string())
            }
            e => virga_common::Error::internal(e),
        }
    }
}

/// What a handler returns instead of a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// A definite failure: the message is acked (never retried) and the error
    /// is sent to the caller of a call; for a cast it is logged.
    #[error("{code}: {message}")]
    Fail { code: String, message: String },
    /// A transient failure: the message goes back to the queue and counts as
    /// a delivery, so it is dead-lettered once the delivery limit is reached.
    #[error("retry: {0}")]
    Retry(String),
}

impl HandlerError {
    pub fn fail(code: impl Into<String>, message: impl Into<String>) -> Self {
        HandlerError::Fail {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn retry(reason: impl Into<String>) -> Self {
        HandlerError::Retry(reason.into())
    }
}

impl From<virga_common::Error> for HandlerError {
    /// An unavailable dependency is worth retrying; anything else is a
    /// definite answer, coded by the API error's variant name.
    fn from(e: virga_common::Error) -> Self {
        use virga_common::Error as E;
        let code = match &e {
            E::Unavailable(m) => return HandlerError::Retry(m.clone()),
            E::BadRequest(_) => "BadRequest",
            E::Unauthorized(_) => "Unauthorized",
            E::Forbidden(_) => "Forbidden",
            E::NotFound { .. } | E::Missing { .. } => "NotFound",
            E::Conflict(_) | E::CodedConflict { .. } => "Conflict",
            E::PayloadTooLarge(_) => "PayloadTooLarge",
            E::UnsupportedMediaType(_) => "UnsupportedMediaType",
            E::OverLimit(_) => "OverLimit",
            E::NotAcceptable(_) => "NotAcceptable",
            E::Internal(_) => {
                tracing::error!(error = %virga_common::error::chain(&e), "bus handler failed");
                "Internal"
            }
        };
        HandlerError::fail(code, e.to_string())
    }
}
