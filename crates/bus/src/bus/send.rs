//! The sending side of [`Bus`]: calls, casts, notifications and queue
//! declarations, with the envelope each one carries.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use tokio::time::Instant;

use super::Bus;
use crate::envelope::{Context, DecodeError, Envelope, Kind, ReplyBody, ReplyOutcome};
use crate::error::BusError;

impl Bus {
    /// Sends a request to one consumer of `topic` and waits up to `timeout`
    /// for its answer.
    pub async fn call(
        &self,
        topic: &str,
        method: &str,
        args: Value,
        ctx: &Context,
        timeout: Duration,
    ) -> Result<Value, BusError> {
        check_topic(topic)?;
        let mut env = Envelope::new(Kind::Call, method, args, ctx);
        // Nobody will read the answer after the timeout, and the work may be
        // stale by then (a reboot the API already reported as failed).
        env.expires_at = chrono::Duration::from_std(timeout)
            .ok()
            .and_then(|t| Utc::now().checked_add_signed(t));
        tracing::debug!(%topic, %method, id = %env.id, "bus call");
        let deadline = Instant::now() + timeout;
        let body = self
            .inner
            .transport
            .request(topic, env.id, env.encode(), deadline)
            .await?;
        let reply = read_reply(&body, &env).map_err(BusError::MalformedReply)?;
        match reply.outcome {
            ReplyOutcome::Result(value) => Ok(value),
            ReplyOutcome::Error(e) => Err(BusError::Remote {
                code: e.code,
                message: e.message,
            }),
        }
    }

    /// Queues a persistent request for one consumer of `topic`, returning
    /// once the broker has confirmed it. [`BusError::NoRoute`] if the topic's
    /// queue does not exist (see [`Bus::declare`]).
    pub async fn cast(
        &self,
        topic: &str,
        method: &str,
        args: Value,
        ctx: &Context,
    ) -> Result<(), BusError> {
        check_topic(topic)?;
        let env = Envelope::new(Kind::Cast, method, args, ctx);
        tracing::debug!(%topic, %method, id = %env.id, "bus cast");
        self.inner
            .transport
            .send(topic, env.encode(), self.deadline())
            .await
    }

    /// Publishes an event (e.g. `instance.create.end`) to every matching
    /// subscription, returning once the broker has confirmed it. An event
    /// nobody subscribed to is dropped.
    pub async fn notify(&self, event: &str, args: Value, ctx: &Context) -> Result<(), BusError> {
        check_name(event)?;
        let env = Envelope::new(Kind::Notify, event, args, ctx);
        tracing::debug!(%event, id = %env.id, "bus notify");
        self.inner
            .transport
            .publish_event(event, env.encode(), self.deadline())
            .await
    }

    /// Creates the durable queue of `topic` without consuming from it, so
    /// casts to it are kept until a consumer comes.
    pub async fn declare(&self, topic: &str) -> Result<(), BusError> {
        check_topic(topic)?;
        self.inner.transport.declare(topic, self.deadline()).await
    }

    /// Puts raw bytes on the queue of `topic`, bypassing the envelope, to
    /// test how consumers treat malformed messages.
    #[cfg(feature = "testsuite")]
    pub async fn publish_raw(&self, topic: &str, body: Vec<u8>) -> Result<(), BusError> {
        check_topic(topic)?;
        self.inner
            .transport
            .send(topic, body, self.deadline())
            .await
    }
}

/// The reply body of `body`, checked to be a reply to `call`: a reply
/// routed to the wrong waiter must not pass for this call's answer.
fn read_reply(body: &[u8], call: &Envelope) -> Result<ReplyBody, DecodeError> {
    let reply = Envelope::decode(body)?;
    if reply.kind != Kind::Reply {
        return Err(DecodeError::Unexpected(format!(
            "a {:?} envelope, not a reply",
            reply.kind
        )));
    }
    let body = reply.reply_body()?;
    if body.in_reply_to != call.id {
        return Err(DecodeError::Unexpected(format!(
            "a reply to {}, not to {}",
            body.in_reply_to, call.id
        )));
    }
    Ok(body)
}

/// Names become AMQP short strings (at most 255 bytes) and `amq.` is
/// reserved by RabbitMQ.
pub(super) fn check_name(name: &str) -> Result<(), BusError> {
    if name.is_empty() || name.len() > 200 || name.starts_with("amq.") {
        return Err(BusError::InvalidName(name.to_string()));
    }
    Ok(())
}

/// A topic names a queue, so it must also stay out of the queues the bus
/// names itself: `notify.<group>` (a topic there would share a group's
/// queue) and `virga.` (the dead-letter queue and exchanges).
pub(super) fn check_topic(topic: &str) -> Result<(), BusError> {
    check_name(topic)?;
    if topic.starts_with("notify.") || topic.starts_with("virga.") {
        return Err(BusError::InvalidName(topic.to_string()));
    }
    Ok(())
}
