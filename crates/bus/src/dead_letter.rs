//! What the dead-letter queue holds: messages that could not be read or
//! kept failing, with enough around them for an operator to decide.

use crate::envelope::Envelope;

/// The name of the dead-letter queue (on RabbitMQ, fed by the `virga.dlx` exchange).
pub const DEAD_LETTER_QUEUE: &str = "virga.dead-letters";

/// Why a message was dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadReason {
    /// The body is not an envelope this build can read (garbage or an
    /// unknown version); it never reached a handler.
    Malformed,
    /// It was delivered more than the delivery limit allows (handlers kept
    /// asking for a retry, panicking, or dying mid-message).
    DeliveryLimit,
    /// The broker dead-lettered it after a rejection without requeue.
    Rejected,
    /// Its time to live ran out in a queue.
    Expired,
    /// A reason this build does not know, as the broker named it.
    Other(String),
}

impl DeadReason {
    /// The name used in broker headers (`x-virga-reason`, `x-death`).
    pub fn as_str(&self) -> &str {
        match self {
            DeadReason::Malformed => "malformed",
            DeadReason::DeliveryLimit => "delivery_limit",
            DeadReason::Rejected => "rejected",
            DeadReason::Expired => "expired",
            DeadReason::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "malformed" => DeadReason::Malformed,
            "delivery_limit" => DeadReason::DeliveryLimit,
            "rejected" => DeadReason::Rejected,
            "expired" => DeadReason::Expired,
            other => DeadReason::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for DeadReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message taken from the dead-letter queue.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The queue it was dead-lettered from (`agent.host1`, `notify.audit`, ...).
    pub queue: String,
    /// The routing key it was published with: the topic for calls and casts,
    /// the event name for notifications.
    pub routing_key: String,
    pub reason: DeadReason,
    /// Why, in words, when the bus itself dead-lettered it (e.g. the decode error).
    pub detail: Option<String>,
    /// The raw body, exactly as published.
    pub body: Vec<u8>,
}

impl DeadLetter {
    /// The body read as an envelope, when it is one.
    pub fn envelope(&self) -> Option<Envelope> {
        Envelope::decode(&self.body).ok()
    }
}
