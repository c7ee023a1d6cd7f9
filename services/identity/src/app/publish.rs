//! What identity tells the other services over the bus: its keys and
//! revocations on request (`get_keys`), key changes and revocations as
//! events. Each revocation is also stored, so a service that starts later,
//! or missed the event, gets it with the next full fetch.

use std::time::Duration;

use chrono::Utc;
use virga_auth::RevocationEvent;
use virga_bus::{BusError, Context, HandlerError, Incoming, handler_fn};
use virga_common::Error;
use virga_common::error::chain;
use virga_protocol::identity::{IdentityCall, IdentityEvent, KeysReply, ProjectReply, TOPIC};

use super::service_user;
use virga_protocol::{from_parts, to_parts};

use super::IdentityState;
use crate::db::revocation;

/// How often the key ring and the revocation table are looked after. Far
/// shorter than any sensible rotation period, so a rotation is at most this late.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(60);

pub async fn keys_reply(state: &IdentityState) -> Result<KeysReply, Error> {
    let config = state.ctx.config();
    let rows = revocation::active(state.ctx.db(), Utc::now()).await?;
    let revocations = rows
        .iter()
        .filter_map(|row| match revocation::to_event(row) {
            Ok(ev) => Some(ev),
            Err(e) => {
                tracing::error!(id = %row.id, error = %chain(&e), "skipping an unreadable revocation");
                None
            }
        })
        .collect();
    Ok(KeysReply {
        issuer: config.auth.issuer.clone(),
        jwks: state.keys.jwks(),
        revocations,
        identity_url: format!("{}/v3", state.ctx.public_url()),
    })
}

/// Answers the identity topic's calls (`get_keys`, `get_project`,
/// `service_token`) until
/// shutdown.
pub async fn serve_keys(state: &IdentityState) -> Result<(), BusError> {
    let handler_state = state.clone();
    let handler = handler_fn(move |msg: Incoming| {
        let state = handler_state.clone();
        async move {
            match from_parts::<IdentityCall>(&msg.envelope.method, msg.envelope.args) {
                Ok(IdentityCall::GetKeys {}) => match keys_reply(&state).await {
                    Ok(reply) => Ok(serde_json::to_value(reply).expect("a keys reply serializes")),
                    Err(e) => {
                        tracing::error!(error = %chain(&e), "cannot answer get_keys");
                        Err(HandlerError::fail("Unavailable", "keys unavailable"))
                    }
                },
                Ok(IdentityCall::GetProject { id }) => {
                    match crate::db::project::get(state.ctx.db(), &id).await {
                        Ok(p) => Ok(serde_json::to_value(Some(ProjectReply {
                            id: p.id,
                            name: p.name,
                            domain_id: p.domain_id,
                            enabled: p.enabled,
                        }))
                        .expect("a project reply serializes")),
                        Err(Error::NotFound { .. }) => Ok(serde_json::Value::Null),
                        Err(e) => {
                            tracing::error!(error = %chain(&e), "cannot answer get_project");
                            Err(HandlerError::fail("Unavailable", "projects unavailable"))
                        }
                    }
                }
                Ok(IdentityCall::ServiceToken { service }) => {
                    match service_user::token(&state, &service).await {
                        Ok(reply) => {
                            Ok(serde_json::to_value(reply).expect("a token reply serializes"))
                        }
                        Err(e) => Err(HandlerError::from(e)),
                    }
                }
                Err(e) => Err(HandlerError::fail("BadRequest", e.to_string())),
            }
        }
    });
    let consumer = state.ctx.bus().serve(TOPIC, handler).await?;
    let shutdown = state.ctx.shutdown().clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        consumer.stop().await;
    });
    Ok(())
}

/// Records a revocation, applies it here at once and tells every service.
/// The record comes first: if the event is lost, the next full fetch still
/// carries it.
pub async fn revoke(state: &IdentityState, event: RevocationEvent) -> Result<(), Error> {
    let lifetime = Duration::from_secs(state.ctx.config().auth.token_lifetime_secs);
    revocation::record_event(state.ctx.db(), &event, lifetime).await?;
    state.ctx.auth().revocations().apply(event.clone());
    notify(state, &IdentityEvent::Revoked { event }).await;
    Ok(())
}

async fn notify(state: &IdentityState, event: &IdentityEvent) {
    let (method, args) = to_parts(event);
    if let Err(e) = state
        .ctx
        .bus()
        .notify(&method, args, &Context::default())
        .await
    {
        // Services catch up at their next full fetch (auth.keys_refresh_secs).
        tracing::warn!(event = %method, error = %chain(&e), "could not publish");
    }
}

/// Rotates and prunes keys, prunes expired revocations, and publishes a
/// changed key set, every [`MAINTENANCE_EVERY`] until shutdown.
pub fn spawn_maintenance(state: IdentityState) {
    tokio::spawn(async move {
        let shutdown = state.ctx.shutdown().clone();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(MAINTENANCE_EVERY) => {}
            }
            if let Err(e) = maintain(&state).await {
                tracing::error!(error = %chain(&e), "key maintenance failed; will retry");
            }
        }
    });
}

pub async fn maintain(state: &IdentityState) -> Result<(), Error> {
    let auth = &state.ctx.config().auth;
    let done = state
        .keys
        .maintain(
            state.ctx.db(),
            Duration::from_secs(auth.key_rotation_secs),
            Duration::from_secs(auth.token_lifetime_secs),
            Utc::now(),
        )
        .await?;
    if done.changed {
        let jwks = state.keys.jwks();
        state
            .ctx
            .auth()
            .apply(IdentityEvent::KeysChanged { jwks: jwks.clone() });
        notify(state, &IdentityEvent::KeysChanged { jwks }).await;
    }
    revocation::prune(state.ctx.db(), Utc::now()).await?;
    Ok(())
}
