//! Typed messages between Virga services and agents.
//!
//! The bus carries envelopes with a `method` and JSON `args`; this crate gives
//! each direction one enum whose serde form is exactly `{"method", "args"}`, so
//! both sides compile against the same definitions and a rename is a compile
//! error rather than a silent drop. Each variant's doc says who sends it and
//! when it is allowed. Evolve messages by adding optional fields: a receiver
//! must accept messages from an older or newer peer of the same envelope version.

pub mod agent;
pub mod identity;
pub mod network;
pub mod scheduler;
pub mod service;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A message enum of one direction.
pub trait Message: Serialize + DeserializeOwned {
    /// The bus topic (queue) or event prefix this direction uses, for documentation and routing.
    fn method(&self) -> &'static str;
}

/// Why a `(method, args)` pair is not a message of the expected enum.
#[derive(Debug, thiserror::Error)]
#[error("`{method}` is not a valid message here")]
pub struct DecodeError {
    pub method: String,
    #[source]
    pub source: serde_json::Error,
}

/// Splits a message into the envelope's `method` and `args`.
pub fn to_parts<M: Message>(msg: &M) -> (String, serde_json::Value) {
    let method = msg.method().to_string();
    let mut value = serde_json::to_value(msg).expect("protocol messages serialize");
    let args = value
        .get_mut("args")
        .map(serde_json::Value::take)
        .unwrap_or(serde_json::Value::Object(Default::default()));
    (method, args)
}

/// Rebuilds a message from an envelope's `method` and `args`.
pub fn from_parts<M: Message>(method: &str, args: serde_json::Value) -> Result<M, DecodeError> {
    serde_json::from_value(serde_json::json!({"method": method, "args": args})).map_err(|source| {
        DecodeError {
            method: method.to_string(),
            source,
        }
    })
}
