//! Consuming from RabbitMQ: one channel per consumer (prefetch 1), so that
//! closing it (abort, crash) returns exactly its unacknowledged message; and
//! resubscribing on the new connection after a reconnection.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use lapin::options::{BasicCancelOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Consumer};
use tokio::time::Instant;

use super::link::{Link, Live};
use super::settle::{AmqpSettle, Counts};
use super::topology;
use crate::backoff::Backoff;
use crate::error::BusError;
use crate::sync::lock;
use crate::transport::{Delivery, Source, SourceSpec, group_queue};

const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(30);
/// Bounds each step of a graceful stop: on a half-open connection lapin
/// notices the loss only after two heartbeat intervals (two minutes with
/// RabbitMQ's defaults), longer than a typical shutdown grace period.
const STOP_STEP_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct AmqpSource {
    link: Link,
    spec: SourceSpec,
    limit: u32,
    active: Option<Active>,
    backoff: Backoff,
    counts: Counts,
}

struct Active {
    channel: Channel,
    consumer: Consumer,
    queue: String,
    private: bool,
}

impl AmqpSource {
    /// Subscribes once (within `deadline`) so the queue exists on return.
    pub(crate) async fn open(
        link: Link,
        spec: SourceSpec,
        limit: u32,
        deadline: Instant,
    ) -> Result<Self, BusError> {
        let spec_ref = &spec;
        let active = link
            .retrying(deadline, |live| async move {
                subscribe(&live, spec_ref, limit)
                    .await
                    .map_err(topology::refused)
            })
            .await?;
        let mut backoff = Backoff::default();
        backoff.succeeded();
        Ok(AmqpSource {
            link,
            spec,
            limit,
            active: Some(active),
            backoff,
            counts: Counts::default(),
        })
    }

    fn delivery(&self, d: lapin::message::Delivery, active: &Active) -> Delivery {
        let key = body_key(&d.data);
        let local = active
            .private
            .then(|| (self.counts.clone(), key, self.limit));
        let attempt = match &local {
            Some((counts, key, _)) => lock(counts).get(key).copied().unwrap_or(0) + 1,
            None => delivery_count(&d.properties)
                .map(|n| n + 1)
                .unwrap_or(if d.redelivered { 2 } else { 1 }),
        };
        let topic = match &self.spec {
            SourceSpec::Topic(t) => t.clone(),
            SourceSpec::Events { .. } => d.routing_key.to_string(),
        };
        let settle = AmqpSettle {
            link: self.link.clone(),
            channel: active.channel.clone(),
            queue: active.queue.clone(),
            routing_key: d.routing_key.to_string(),
            reply_to: d.properties.reply_to().clone(),
            correlation_id: d.properties.correlation_id().clone(),
            body: d.data.clone(),
            acker: d.acker,
            local,
        };
        Delivery {
            body: d.data,
            topic,
            redelivered: d.redelivered,
            attempt,
            settle: Box::new(settle),
        }
    }
}

async fn subscribe(live: &Live, spec: &SourceSpec, limit: u32) -> lapin::Result<Active> {
    let channel = live.conn.create_channel().await?;
    channel.basic_qos(1, BasicQosOptions::default()).await?;
    let (queue, private) = match spec {
        SourceSpec::Topic(topic) => {
            topology::declare_durable(&channel, topic, limit).await?;
            (topic.clone(), false)
        }
        SourceSpec::Events {
            pattern,
            group: Some(group),
        } => {
            let queue = group_queue(group);
            topology::declare_durable(&channel, &queue, limit).await?;
            topology::bind_events(&channel, &queue, pattern).await?;
            (queue, false)
        }
        SourceSpec::Events {
            pattern,
            group: None,
        } => {
            let queue = topology::declare_private(&channel).await?;
            topology::bind_events(&channel, &queue, pattern).await?;
            (queue, true)
        }
    };
    let consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(Active {
        channel,
        consumer,
        queue,
        private,
    })
}

fn body_key(body: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    h.finish()
}

/// The quorum queue's count of earlier deliveries (`x-delivery-count`).
fn delivery_count(props: &BasicProperties) -> Option<u32> {
    let value = props.headers().as_ref()?.inner().get("x-delivery-count")?;
    let n = match value {
        AMQPValue::LongInt(n) => i64::from(*n),
        AMQPValue::LongLongInt(n) => *n,
        AMQPValue::LongUInt(n) => i64::from(*n),
        AMQPValue::ShortInt(n) => i64::from(*n),
        _ => return None,
    };
    u32::try_from(n).ok()
}

/// Closes a channel in the background. lapin would close it anyway once
/// the last handle drops, but a `Settle` may still hold a clone; closing
/// now hands the unacknowledged message back to the broker at once.
fn close_later(channel: Channel) {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            let _ = channel.close(200, "consumer gone".into()).await;
        });
    }
}

#[async_trait]
impl Source for AmqpSource {
    async fn next(&mut self) -> Option<Delivery> {
        loop {
            if self.active.is_none() {
                let live = self.link.live(None).await.ok()?;
                // Bounded: a queue the broker cannot serve yet (e.g. a quorum
                // queue without a leader) would otherwise stall this silently.
                let attempt = tokio::time::timeout(
                    SUBSCRIBE_TIMEOUT,
                    subscribe(&live, &self.spec, self.limit),
                )
                .await;
                let attempt = attempt.unwrap_or_else(|_| {
                    Err(
                        std::io::Error::new(std::io::ErrorKind::TimedOut, "subscribing timed out")
                            .into(),
                    )
                });
                match attempt {
                    Ok(active) => {
                        tracing::info!(queue = %active.queue, "consuming again after a broker failure");
                        if active.private {
                            // A new private queue: the old one and the
                            // messages counted for it are gone.
                            lock(&self.counts).clear();
                        }
                        self.active = Some(active);
                        self.backoff.succeeded();
                    }
                    Err(error) => {
                        let pause = self.backoff.pause();
                        tracing::warn!(%error, retry_in = ?pause, "cannot resubscribe");
                        self.link.report();
                        tokio::time::sleep(pause).await;
                        continue;
                    }
                }
            }
            let active = self.active.as_mut().expect("subscribed above");
            match active.consumer.next().await {
                Some(Ok(d)) => {
                    let active = self.active.as_ref().expect("subscribed above");
                    return Some(self.delivery(d, active));
                }
                Some(Err(error)) => {
                    tracing::warn!(queue = %active.queue, %error, "consumer failed; resubscribing")
                }
                None => {
                    tracing::warn!(queue = %active.queue, "consumer cancelled by the broker; resubscribing")
                }
            }
            if let Some(old) = self.active.take() {
                close_later(old.channel);
            }
            self.link.report();
            tokio::time::sleep(self.backoff.pause()).await;
        }
    }

    async fn cancel(&mut self) {
        if let Some(active) = &self.active {
            let cancel = active
                .channel
                .basic_cancel(active.consumer.tag(), BasicCancelOptions::default());
            match tokio::time::timeout(STOP_STEP_TIMEOUT, cancel).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(queue = %active.queue, %error, "cannot cancel the consumer")
                }
                Err(_) => {
                    tracing::warn!(queue = %active.queue, "the broker did not confirm the cancel in time")
                }
            }
        }
    }

    async fn close(mut self: Box<Self>) {
        if let Some(active) = self.active.take() {
            let close = active.channel.close(200, "consumer stopped".into());
            if tokio::time::timeout(STOP_STEP_TIMEOUT, close)
                .await
                .is_err()
            {
                tracing::warn!(queue = %active.queue, "the broker did not confirm closing the channel in time");
            }
        }
    }
}

impl Drop for AmqpSource {
    fn drop(&mut self) {
        // Aborted: closing the channel hands its unacknowledged message back
        // to the broker for redelivery.
        if let Some(active) = self.active.take() {
            close_later(active.channel);
        }
    }
}
