//! Keeping a service's [`Authenticator`] in step with identity over the bus:
//! a private subscription to identity's change events, and a full fetch at
//! start and every `auth.keys_refresh_secs` (which also repairs anything
//! missed while the broker was away). The last full picture is written to a
//! snapshot file so a restart without identity still verifies tokens.

use std::path::Path;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use virga_bus::{Consumer, Context, HandlerError, Incoming, handler_fn};
use virga_common::error::chain;
use virga_protocol::identity::{EVENTS, IdentityCall, IdentityEvent, KeysReply, TOPIC};
use virga_protocol::{from_parts, to_parts};

use super::Authenticator;
use crate::ServiceContext;

/// How long one fetch may wait for identity.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Retry delays while identity does not answer: quick at first (identity
/// may be starting in the same process), then no more than every 30 s.
const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(30);

pub(crate) fn spawn(ctx: ServiceContext, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let refresh = Duration::from_secs(ctx.config().auth.keys_refresh_secs);
        let mut events: Option<Consumer> = None;
        let mut delay = RETRY_MIN;
        loop {
            // Subscribe before fetching, so no change falls between the two.
            if events.is_none() {
                events = subscribe(&ctx).await;
            }
            let wait = match fetch(&ctx).await {
                Some(reply) => {
                    ctx.auth().install(&reply);
                    save_snapshot(ctx.auth(), &reply);
                    delay = RETRY_MIN;
                    refresh
                }
                None => {
                    delay = (delay * 2).min(RETRY_MAX);
                    delay
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
        if let Some(consumer) = events {
            consumer.stop().await;
        }
    })
}

async fn subscribe(ctx: &ServiceContext) -> Option<Consumer> {
    let auth = ctx.auth().clone();
    let handler = handler_fn(move |msg: Incoming| {
        let auth = auth.clone();
        async move {
            match from_parts::<IdentityEvent>(&msg.envelope.method, msg.envelope.args) {
                Ok(event) => {
                    auth.apply(event);
                    Ok(serde_json::Value::Null)
                }
                // A newer identity's event this service does not know: not
                // worth a retry, the next full fetch brings its effect.
                Err(e) => Err(HandlerError::fail("BadRequest", e.to_string())),
            }
        }
    });
    match ctx.bus().subscribe(EVENTS, None, handler).await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %chain(&e), "cannot subscribe to identity's events yet");
            None
        }
    }
}

async fn fetch(ctx: &ServiceContext) -> Option<KeysReply> {
    let (method, args) = to_parts(&IdentityCall::GetKeys {});
    let reply = ctx
        .bus()
        .call(TOPIC, &method, args, &Context::default(), FETCH_TIMEOUT)
        .await;
    match reply.map(serde_json::from_value::<KeysReply>) {
        Ok(Ok(reply)) => Some(reply),
        Ok(Err(e)) => {
            tracing::error!(error = %chain(&e), "identity's keys reply is malformed");
            None
        }
        Err(e) => {
            tracing::debug!(error = %chain(&e), "identity's keys not available yet");
            None
        }
    }
}

pub(super) fn load_snapshot(path: Option<&Path>) -> Option<KeysReply> {
    let path = path?;
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(reply) => {
            tracing::info!(path = %path.display(), "verifying tokens with the keys last heard from identity");
            Some(reply)
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable keys snapshot");
            None
        }
    }
}

/// Written to a temporary file and renamed, so a crash never leaves half a
/// snapshot. The snapshot holds public keys and revocations, nothing secret.
fn save_snapshot(auth: &Authenticator, reply: &KeysReply) {
    let Some(path) = auth.0.snapshot.as_deref() else {
        return;
    };
    let tmp = path.with_extension("tmp");
    let body = serde_json::to_vec(reply).expect("a keys reply serializes");
    if let Err(e) = std::fs::write(&tmp, body).and_then(|()| std::fs::rename(&tmp, path)) {
        tracing::warn!(path = %path.display(), error = %e, "cannot keep a keys snapshot");
    }
}
