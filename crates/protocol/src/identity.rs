//! Identity's messages to every service: the keys that verify tokens and the
//! revocations that cut them short.
//!
//! A service asks for the whole picture at start and every
//! `auth.keys_refresh_secs` ([`IdentityCall::GetKeys`] on [`TOPIC`]), and
//! hears changes as they happen ([`IdentityEvent`]), so a revoked token stops
//! working within seconds while a service cut off from identity keeps
//! verifying with what it last heard.

use serde::{Deserialize, Serialize};
use virga_auth::{Jwks, RevocationEvent};

use crate::Message;

/// The topic identity serves these calls on.
pub const TOPIC: &str = "identity";

/// Calls to identity (topic [`TOPIC`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum IdentityCall {
    /// Any service, at any time; answered with [`KeysReply`].
    GetKeys {},
    /// Any service that must know a project exists (the image service,
    /// before sharing an image with it); answered with
    /// `Option<ProjectReply>`, null when there is no such project.
    GetProject { id: String },
    /// A service that calls other services' REST APIs as itself (compute
    /// asking the scheduler, the network and image services, as Nova does
    /// with its service user): a token of the service's own user (named
    /// after it, in project `service`, with the `service` role; made on
    /// first use, without a password, so it cannot log in over REST) and
    /// the catalog's public endpoints; answered with [`ServiceTokenReply`].
    /// Whoever may publish to [`TOPIC`] may ask, so the bus is a trust
    /// boundary: agents' bus users must not be allowed to.
    ServiceToken { service: String },
}

impl Message for IdentityCall {
    fn method(&self) -> &'static str {
        match self {
            IdentityCall::GetKeys {} => "get_keys",
            IdentityCall::GetProject { .. } => "get_project",
            IdentityCall::ServiceToken { .. } => "service_token",
        }
    }
}

/// Everything a service needs to verify tokens on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeysReply {
    /// The `iss` of every token.
    pub issuer: String,
    /// Every key a live token may be signed with.
    pub jwks: Jwks,
    /// Revocations still in force.
    pub revocations: Vec<RevocationEvent>,
    /// Identity's public URL, named in `WWW-Authenticate` on a 401.
    pub identity_url: String,
}

/// A project, as other services need to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectReply {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub enabled: bool,
}

/// The reply to [`IdentityCall::ServiceToken`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceTokenReply {
    pub token: String,
    /// When the token expires (unix seconds); ask again before.
    pub expires_at: u64,
    /// Service type (`placement`, `network`, `image`, ...) -> public URL in
    /// the cloud's region.
    pub endpoints: std::collections::BTreeMap<String, String>,
}

/// Events identity publishes (notify).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args")]
pub enum IdentityEvent {
    /// The key set changed (rotation): replace the keys with these.
    #[serde(rename = "identity.keys.changed")]
    KeysChanged { jwks: Jwks },
    /// A token, a user's or a project's tokens were revoked.
    #[serde(rename = "identity.revoked")]
    Revoked { event: RevocationEvent },
}

/// The pattern that subscribes to every [`IdentityEvent`].
pub const EVENTS: &str = "identity.#";

impl Message for IdentityEvent {
    fn method(&self) -> &'static str {
        match self {
            IdentityEvent::KeysChanged { .. } => "identity.keys.changed",
            IdentityEvent::Revoked { .. } => "identity.revoked",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_parts, to_parts};

    #[test]
    fn revoked_round_trips() {
        let ev = IdentityEvent::Revoked {
            event: RevocationEvent::User {
                user_id: "u1".into(),
                issued_before_ms: 42,
            },
        };
        let (method, args) = to_parts(&ev);
        assert_eq!(method, "identity.revoked");
        assert_eq!(args["event"]["kind"], "user");
        assert_eq!(from_parts::<IdentityEvent>(&method, args).unwrap(), ev);
    }

    #[test]
    fn get_project_round_trips() {
        let call = IdentityCall::GetProject { id: "p1".into() };
        let (method, args) = to_parts(&call);
        assert_eq!(method, "get_project");
        assert_eq!(args, serde_json::json!({"id": "p1"}));
        assert_eq!(from_parts::<IdentityCall>(&method, args).unwrap(), call);
    }
}
