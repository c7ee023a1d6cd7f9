//! Settling a RabbitMQ delivery: ack, nack-requeue (with the consumer's own
//! delivery count for private queues), replies to calls, and dead-lettering
//! by publishing to `virga.dlx` with `x-virga-*` headers before acking, so
//! the reason (`malformed`, `delivery_limit`) survives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel};
use tokio::time::Instant;

use super::link::Link;
use super::{publish, topology};
use crate::dead_letter::DeadReason;
use crate::sync::lock;
use crate::transport::{Settle, over_limit};

/// Deliveries counted by the consumer itself, for private (classic) queues
/// where the broker keeps no count. Exact, since only this consumer ever
/// sees that queue's messages. Keyed by a hash of the body.
pub(crate) type Counts = Arc<Mutex<HashMap<u64, u32>>>;

pub(crate) struct AmqpSettle {
    pub(crate) link: Link,
    pub(crate) channel: Channel,
    pub(crate) queue: String,
    pub(crate) routing_key: String,
    pub(crate) reply_to: Option<ShortString>,
    pub(crate) correlation_id: Option<ShortString>,
    pub(crate) body: Vec<u8>,
    pub(crate) acker: lapin::Acker,
    pub(crate) local: Option<(Counts, u64, u32)>,
}

impl AmqpSettle {
    async fn ack_now(&self) {
        match self.acker.ack(BasicAckOptions::default()).await {
            Ok(true) => {}
            // The channel closed under the handler (lost connection,
            // consumer timeout): the broker has already taken it back.
            Ok(false) => {
                tracing::warn!(queue = %self.queue, "cannot ack on a closed channel; the message will be delivered again")
            }
            Err(error) => {
                tracing::warn!(queue = %self.queue, %error, "ack failed; the message will be delivered again")
            }
        }
        if let Some((counts, key, _)) = &self.local {
            lock(counts).remove(key);
        }
    }

    async fn nack_requeue(&self) {
        let options = BasicNackOptions {
            multiple: false,
            requeue: true,
        };
        match self.acker.nack(options).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(queue = %self.queue, "cannot nack on a closed channel; the broker has taken the message back")
            }
            Err(error) => {
                tracing::warn!(queue = %self.queue, %error, "nack failed; the broker returns the message when the channel closes")
            }
        }
    }
}

#[async_trait]
impl Settle for AmqpSettle {
    async fn reply(&mut self, body: Vec<u8>) {
        let Some(to) = self.reply_to.clone() else {
            return;
        };
        let mut props = BasicProperties::default().with_content_type("application/json".into());
        if let Some(id) = self.correlation_id.clone() {
            props = props.with_correlation_id(id);
        }
        let sent = async {
            let options = lapin::options::BasicPublishOptions::default();
            self.channel
                .basic_publish("".into(), to, options, &body, props)
                .await?
                .await
        };
        if let Err(error) = sent.await {
            tracing::warn!(%error, "cannot send the reply; the caller will time out");
        }
    }

    async fn ack(self: Box<Self>) {
        self.ack_now().await;
    }

    async fn requeue(self: Box<Self>) {
        if let Some((counts, key, limit)) = &self.local {
            let returns = {
                let mut counts = lock(counts);
                let n = counts.entry(*key).or_insert(0);
                *n += 1;
                *n
            };
            if over_limit(returns, *limit) {
                tracing::warn!(queue = %self.queue, returns, "dead-lettering a message over its delivery limit");
                return self
                    .dead_letter(DeadReason::DeliveryLimit, String::new())
                    .await;
            }
        }
        self.nack_requeue().await;
    }

    async fn dead_letter(self: Box<Self>, reason: DeadReason, detail: String) {
        if !self.acker.usable() {
            // The ack after the copy could not succeed, so the broker would
            // redeliver the message and it would be dead-lettered twice.
            tracing::warn!(queue = %self.queue, %reason, "channel closed before dead-lettering; the message will be delivered again");
            return;
        }
        let mut headers = FieldTable::default();
        let mut put = |k: &str, v: &str| {
            headers.insert(k.into(), AMQPValue::LongString(v.into()));
        };
        put("x-virga-reason", reason.as_str());
        put("x-virga-queue", &self.queue);
        if !detail.is_empty() {
            put("x-virga-detail", &detail);
        }
        let props = publish::properties().with_headers(headers);
        let deadline = Instant::now() + Duration::from_secs(10);
        let dlx = topology::DEAD_LETTER_EXCHANGE;
        let (key, body, props) = (&self.routing_key, &self.body, &props);
        let published = self
            .link
            .retrying(deadline, |live| async move {
                live.publisher
                    .take(&live.conn, deadline)
                    .await?
                    .publish(dlx, key, false, body, props.clone(), deadline)
                    .await
            })
            .await;
        match published {
            Ok(()) => self.ack_now().await,
            Err(error) => {
                tracing::warn!(%error, "cannot dead-letter the message; it goes back to its queue");
                self.nack_requeue().await;
            }
        }
    }
}
