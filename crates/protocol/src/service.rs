//! Messages every service understands: liveness over the bus and the
//! start/stop announcements that later feed `os-services`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Message;

/// The topic a service consumes calls on: `service.<name>`.
pub fn topic(service: &str) -> String {
    format!("service.{service}")
}

/// Calls to a service (topic [`topic`]), answered with [`ServiceReply`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum ServiceCall {
    /// Any peer, at any time: proves the service consumes its topic.
    Ping {},
}

impl Message for ServiceCall {
    fn method(&self) -> &'static str {
        match self {
            ServiceCall::Ping {} => "ping",
        }
    }
}

/// The reply to [`ServiceCall::Ping`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pong {
    pub service: String,
    pub host: String,
    pub version: String,
    pub started_at: DateTime<Utc>,
}

/// Events a service publishes about itself (notify, routing key `service.<event>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum ServiceEvent {
    /// Sent once the service's API listens and its consumers run.
    #[serde(rename = "service.started")]
    Started {
        service: String,
        host: String,
        version: String,
        endpoint: String,
    },
    /// Sent when a graceful shutdown begins, before consumers stop.
    #[serde(rename = "service.stopping")]
    Stopping { service: String, host: String },
}

impl Message for ServiceEvent {
    fn method(&self) -> &'static str {
        match self {
            ServiceEvent::Started { .. } => "service.started",
            ServiceEvent::Stopping { .. } => "service.stopping",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_parts, to_parts};

    #[test]
    fn parts_round_trip() {
        let ev = ServiceEvent::Started {
            service: "compute".into(),
            host: "n1".into(),
            version: "0.1.0".into(),
            endpoint: "http://h:8774".into(),
        };
        let (method, args) = to_parts(&ev);
        assert_eq!(method, "service.started");
        assert_eq!(args["service"], "compute");
        assert_eq!(from_parts::<ServiceEvent>(&method, args).unwrap(), ev);

        let (method, args) = to_parts(&ServiceCall::Ping {});
        assert_eq!(
            (method.as_str(), args.clone()),
            ("ping", serde_json::json!({}))
        );
        assert_eq!(
            from_parts::<ServiceCall>("ping", args).unwrap(),
            ServiceCall::Ping {}
        );
    }

    #[test]
    fn unknown_method_is_an_error() {
        let err = from_parts::<ServiceCall>("reboot_the_world", serde_json::json!({})).unwrap_err();
        assert_eq!(err.method, "reboot_the_world");
    }
}
