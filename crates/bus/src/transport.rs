//! The seam between the [`crate::Bus`] facade and a broker: the few
//! primitives both the in-process and the AMQP transport implement. All the
//! semantics that must be identical (envelope checks, handler outcomes,
//! catching panics, replies) live above this seam in `bus.rs` and `consumer.rs`.

use async_trait::async_trait;
use tokio::time::Instant;
use virga_common::ids::MessageId;

use crate::dead_letter::{DeadLetter, DeadReason};
use crate::error::BusError;

/// The exchange notifications are published to, by event name.
pub(crate) const EVENTS_EXCHANGE: &str = "virga.events";

/// The durable queue a notification group shares. Both transports must
/// agree on it, and `check_topic` keeps topics out of the `notify.` space.
pub(crate) fn group_queue(group: &str) -> String {
    format!("notify.{group}")
}

/// Whether a message that came back `returns` times unsettled is over a
/// queue's delivery limit, counted as a quorum queue counts
/// (`x-delivery-limit`): it is delivered at most `limit + 1` times.
pub(crate) fn over_limit(returns: u32, limit: u32) -> bool {
    returns > limit
}

/// Where a consumer takes its messages from.
#[derive(Debug, Clone)]
pub(crate) enum SourceSpec {
    /// The durable queue named after the topic (competing consumers).
    Topic(String),
    /// Notifications matching `pattern`: a shared durable queue
    /// `notify.<group>` per group, else a private queue that dies with the consumer.
    Events {
        pattern: String,
        group: Option<String>,
    },
}

#[async_trait]
pub(crate) trait Transport: Send + Sync + 'static {
    /// Creates the durable queue of `topic` if it does not exist yet.
    async fn declare(&self, topic: &str, deadline: Instant) -> Result<(), BusError>;
    /// Puts `body` on the queue of `topic`, returning once the broker has it.
    /// [`BusError::NoRoute`] if there is no such queue.
    async fn send(&self, topic: &str, body: Vec<u8>, deadline: Instant) -> Result<(), BusError>;
    /// Publishes a notification under `event`, returning once the broker has it.
    async fn publish_event(
        &self,
        event: &str,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<(), BusError>;
    /// Sends a call and waits for the body of its reply.
    async fn request(
        &self,
        topic: &str,
        id: MessageId,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<Vec<u8>, BusError>;
    /// Starts consuming; the queue exists when this returns.
    async fn open(&self, spec: SourceSpec, deadline: Instant) -> Result<Box<dyn Source>, BusError>;
    async fn dead_letters(
        &self,
        max: usize,
        deadline: Instant,
    ) -> Result<Vec<DeadLetter>, BusError>;
    fn is_connected(&self) -> bool;
    /// How many calls wait for a reply in a table of the transport's own.
    #[cfg(feature = "testsuite")]
    fn pending_calls(&self) -> usize;
    /// Drops the connection without acknowledging anything, as a crash would.
    async fn close_abruptly(&self);
}

/// A stream of deliveries that outlives reconnections.
#[async_trait]
pub(crate) trait Source: Send {
    /// The next delivery; `None` once the source can never deliver again.
    /// Must be cancel-safe: dropping the future loses no message.
    async fn next(&mut self) -> Option<Delivery>;
    /// Stops the broker from sending more, keeping what is in flight.
    async fn cancel(&mut self);
    /// Releases the source after a graceful stop.
    async fn close(self: Box<Self>);
}

/// One delivered message and the means to settle it.
pub(crate) struct Delivery {
    pub body: Vec<u8>,
    /// The topic served, or the routing key (event name) for notifications.
    pub topic: String,
    pub redelivered: bool,
    /// 1 for the first delivery; best effort (used only to pace retries).
    pub attempt: u32,
    pub settle: Box<dyn Settle>,
}

/// Settles one delivery. Dropping it unsettled must leave the message to
/// the broker to redeliver, exactly as a consumer crash would.
#[async_trait]
pub(crate) trait Settle: Send {
    /// Sends a reply to the caller, if the message was a call with a reply address.
    async fn reply(&mut self, body: Vec<u8>);
    async fn ack(self: Box<Self>);
    /// Returns the message to its queue, counting a delivery; past the
    /// delivery limit it is dead-lettered instead.
    async fn requeue(self: Box<Self>);
    /// Moves the message to the dead-letter queue.
    async fn dead_letter(self: Box<Self>, reason: DeadReason, detail: String);
}
