//! The versioned envelope every bus message carries, its JSON wire form, and
//! the shape of a reply.
//!
//! Wire form (JSON object, one per message body):
//! `{"version": 1, "id": "<uuid>", "kind": "call"|"cast"|"notify"|"reply",
//!   "method": "...", "args": <any>, "context": {"request_id", "user",
//!   "project", "roles"}, "sent_at": "<RFC 3339>"}`, and for a call that
//! must not run after its caller gave up, `"expires_at": "<RFC 3339>"`
//! (absent otherwise, so older readers are unaffected).
//!
//! A reply is an envelope of kind `reply` whose `args` is a [`ReplyBody`]:
//! `{"in_reply_to": "<call id>", "result": <any>}` or
//! `{"in_reply_to": "<call id>", "error": {"code": "...", "message": "..."}}`.
//! Where the reply goes is the transport's business (AMQP `reply_to` +
//! `correlation_id` = call id; in-process a oneshot channel), so the envelope
//! stays the same on both.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use virga_common::RequestId;
use virga_common::ids::MessageId;

/// The envelope version this build writes and the only one it accepts.
/// Bump it only together with a reader for the old version, so a rolling
/// upgrade never dead-letters in-flight messages.
pub const ENVELOPE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub version: u32,
    pub id: MessageId,
    pub kind: Kind,
    pub method: String,
    pub args: Value,
    pub context: Context,
    pub sent_at: DateTime<Utc>,
    /// When the sender stops waiting for this call; a consumer dead-letters
    /// it unhandled afterwards. Wall-clock time, so it assumes the hosts'
    /// clocks agree (NTP); RabbitMQ also expires it by its own clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Call,
    Cast,
    Notify,
    Reply,
}

/// Who asked, carried from the API request into every message it causes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    #[serde(default)]
    pub request_id: Option<RequestId>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

impl Context {
    /// A context carrying only a request id, for work no user asked for.
    pub fn for_request(request_id: RequestId) -> Self {
        Context {
            request_id: Some(request_id),
            ..Context::default()
        }
    }
}

/// The `args` of a reply envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyBody {
    pub in_reply_to: MessageId,
    #[serde(flatten)]
    pub outcome: ReplyOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyOutcome {
    Result(Value),
    Error(RemoteError),
}

/// An error a handler reported to its caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteError {
    pub code: String,
    pub message: String,
}

/// Why a body could not be read as an envelope.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("envelope version {0} is not supported (expected {ENVELOPE_VERSION})")]
    UnknownVersion(u32),
    #[error("body is not a valid envelope")]
    Malformed(#[source] serde_json::Error),
    /// A well-formed envelope that is not the answer expected.
    #[error("not the reply expected: {0}")]
    Unexpected(String),
}

impl Envelope {
    pub fn new(kind: Kind, method: &str, args: Value, context: &Context) -> Self {
        Envelope {
            version: ENVELOPE_VERSION,
            id: MessageId::new(),
            kind,
            method: method.to_string(),
            args,
            context: context.clone(),
            sent_at: Utc::now(),
            expires_at: None,
        }
    }

    /// Whether the sender has stopped waiting for it.
    pub fn is_expired(&self) -> bool {
        self.expires_at.is_some_and(|at| at <= Utc::now())
    }

    /// The reply to this call.
    pub fn reply(&self, outcome: ReplyOutcome) -> Envelope {
        let body = ReplyBody {
            in_reply_to: self.id,
            outcome,
        };
        let args = serde_json::to_value(body).expect("a reply body always serializes");
        Envelope::new(Kind::Reply, &self.method, args, &self.context)
    }

    pub fn encode(&self) -> Vec<u8> {
        // Every field is a string, number or JSON value with string keys, so
        // serialization cannot fail.
        serde_json::to_vec(self).expect("an envelope always serializes")
    }

    /// Reads a body, checking the version before the rest so that a newer
    /// sender's message is reported as such rather than as garbage.
    pub fn decode(body: &[u8]) -> Result<Envelope, DecodeError> {
        #[derive(Deserialize)]
        struct Probe {
            version: u32,
        }
        let probe: Probe = serde_json::from_slice(body).map_err(DecodeError::Malformed)?;
        if probe.version != ENVELOPE_VERSION {
            return Err(DecodeError::UnknownVersion(probe.version));
        }
        serde_json::from_slice(body).map_err(DecodeError::Malformed)
    }

    /// Reads the reply body of a `reply` envelope.
    pub fn reply_body(&self) -> Result<ReplyBody, DecodeError> {
        serde_json::from_value(self.args.clone()).map_err(DecodeError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_form_has_the_documented_fields() {
        let ctx = Context {
            user: Some("u".into()),
            roles: vec!["admin".into()],
            ..Context::default()
        };
        let env = Envelope::new(Kind::Cast, "boot", json!({"id": 1}), &ctx);
        let v: Value = serde_json::from_slice(&env.encode()).unwrap();
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "args", "context", "id", "kind", "method", "sent_at", "version"
            ]
        );
        assert_eq!(v["kind"], "cast");
        assert_eq!(v["version"], 1);
        assert_eq!(
            v["context"],
            json!({"request_id": null, "user": "u", "project": null, "roles": ["admin"]})
        );
        assert_eq!(Envelope::decode(&env.encode()).unwrap(), env);
    }

    #[test]
    fn reply_shapes() {
        let call = Envelope::new(Kind::Call, "ping", Value::Null, &Context::default());
        let ok = call.reply(ReplyOutcome::Result(json!(5)));
        assert_eq!(ok.args, json!({"in_reply_to": call.id, "result": 5}));
        let err = call.reply(ReplyOutcome::Error(RemoteError {
            code: "c".into(),
            message: "m".into(),
        }));
        assert_eq!(
            err.args,
            json!({"in_reply_to": call.id, "error": {"code": "c", "message": "m"}})
        );
        assert_eq!(err.reply_body().unwrap().in_reply_to, call.id);
    }

    #[test]
    fn rejects_unknown_versions_and_garbage() {
        let mut v = serde_json::to_value(Envelope::new(
            Kind::Cast,
            "m",
            Value::Null,
            &Context::default(),
        ))
        .unwrap();
        v["version"] = json!(2);
        let body = serde_json::to_vec(&v).unwrap();
        assert!(matches!(
            Envelope::decode(&body),
            Err(DecodeError::UnknownVersion(2))
        ));
        assert!(matches!(
            Envelope::decode(b"nope"),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            Envelope::decode(br#"{"version":1}"#),
            Err(DecodeError::Malformed(_))
        ));
    }
}
