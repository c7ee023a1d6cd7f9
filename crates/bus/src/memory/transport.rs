//! One bus's connection to a [`MemoryBroker`]: publishing, calls with a
//! oneshot reply slot, and consumer sources whose unsettled deliveries go
//! back to the queue when dropped, the way a closed AMQP channel returns them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::sync::oneshot;
use tokio::time::Instant;
use virga_common::ids::MessageId;

use super::{MemoryBroker, Message, Queue};
use crate::dead_letter::{DeadLetter, DeadReason};
use crate::error::BusError;
use crate::sync::lock;
use crate::transport::{Delivery, Settle, Source, SourceSpec, Transport, group_queue};

pub(crate) struct MemoryTransport {
    broker: MemoryBroker,
    limit: u32,
    closed: AtomicBool,
}

impl MemoryTransport {
    pub(crate) fn new(broker: MemoryBroker, limit: u32) -> Self {
        MemoryTransport {
            broker,
            limit,
            closed: AtomicBool::new(false),
        }
    }

    fn check_open(&self) -> Result<(), BusError> {
        if self.closed.load(Ordering::SeqCst) {
            Err(BusError::Closed)
        } else {
            Ok(())
        }
    }

    fn queue(&self, topic: &str) -> Result<Arc<Queue>, BusError> {
        self.check_open()?;
        self.broker
            .queue(topic)
            .ok_or_else(|| BusError::NoRoute(topic.to_string()))
    }
}

fn message(key: &str, body: Arc<Vec<u8>>) -> Message {
    Message {
        body,
        routing_key: key.to_string(),
        reply: None,
        returns: 0,
        expires: None,
    }
}

#[async_trait]
impl Transport for MemoryTransport {
    async fn declare(&self, topic: &str, _deadline: Instant) -> Result<(), BusError> {
        self.check_open()?;
        self.broker.declare(topic, self.limit).map(drop)
    }

    async fn send(&self, topic: &str, body: Vec<u8>, _deadline: Instant) -> Result<(), BusError> {
        self.queue(topic)?.push(message(topic, Arc::new(body)));
        Ok(())
    }

    async fn publish_event(
        &self,
        event: &str,
        body: Vec<u8>,
        _deadline: Instant,
    ) -> Result<(), BusError> {
        self.check_open()?;
        let body = Arc::new(body);
        for queue in self.broker.route(event) {
            queue.push(message(event, body.clone()));
        }
        Ok(())
    }

    async fn request(
        &self,
        topic: &str,
        _id: MessageId,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<Vec<u8>, BusError> {
        let queue = self.queue(topic)?;
        let (tx, rx) = oneshot::channel();
        queue.push(Message {
            reply: Some(Arc::new(std::sync::Mutex::new(Some(tx)))),
            expires: Some(deadline),
            ..message(topic, Arc::new(body))
        });
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            // The call was dead-lettered, so no reply will come; as on
            // RabbitMQ the caller learns it by the timeout.
            Ok(Err(_)) => {
                tokio::time::sleep_until(deadline).await;
                Err(BusError::Timeout)
            }
            Err(_) => Err(BusError::Timeout),
        }
    }

    async fn open(
        &self,
        spec: SourceSpec,
        _deadline: Instant,
    ) -> Result<Box<dyn Source>, BusError> {
        self.check_open()?;
        let (queue, fixed_topic, private) = match spec {
            SourceSpec::Topic(topic) => {
                (self.broker.declare(&topic, self.limit)?, Some(topic), false)
            }
            SourceSpec::Events { pattern, group } => {
                let (name, private) = match group {
                    Some(g) => (group_queue(&g), false),
                    None => (
                        group_queue(&format!("private.{}", uuid::Uuid::new_v4())),
                        true,
                    ),
                };
                let queue = self.broker.declare(&name, self.limit)?;
                self.broker.bind(&pattern, &name);
                (queue, None, private)
            }
        };
        Ok(Box::new(MemorySource {
            broker: self.broker.clone(),
            queue,
            fixed_topic,
            private,
            cancelled: false,
        }))
    }

    async fn dead_letters(
        &self,
        max: usize,
        _deadline: Instant,
    ) -> Result<Vec<DeadLetter>, BusError> {
        self.check_open()?;
        Ok(self.broker.take_dead(max))
    }

    fn is_connected(&self) -> bool {
        !self.closed.load(Ordering::SeqCst)
    }

    /// Always 0: a call's reply slot travels in its message, so a caller
    /// that gives up leaves no entry behind here.
    #[cfg(feature = "testsuite")]
    fn pending_calls(&self) -> usize {
        0
    }

    async fn close_abruptly(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

struct MemorySource {
    broker: MemoryBroker,
    queue: Arc<Queue>,
    /// The topic served; `None` for notifications, whose topic is the event name.
    fixed_topic: Option<String>,
    /// A subscription without a group: its queue dies with it.
    private: bool,
    cancelled: bool,
}

#[async_trait]
impl Source for MemorySource {
    async fn next(&mut self) -> Option<Delivery> {
        if self.cancelled {
            return None;
        }
        let msg = self.queue.pop(&self.broker).await;
        Some(Delivery {
            body: msg.body.to_vec(),
            topic: self
                .fixed_topic
                .clone()
                .unwrap_or_else(|| msg.routing_key.clone()),
            redelivered: msg.returns > 0,
            attempt: msg.returns + 1,
            settle: Box::new(MemorySettle {
                broker: self.broker.clone(),
                queue: self.queue.clone(),
                msg: Some(msg),
            }),
        })
    }

    async fn cancel(&mut self) {
        self.cancelled = true;
    }

    async fn close(self: Box<Self>) {}
}

impl Drop for MemorySource {
    fn drop(&mut self) {
        if self.private {
            self.broker.delete(self.queue.name());
        }
    }
}

struct MemorySettle {
    broker: MemoryBroker,
    queue: Arc<Queue>,
    msg: Option<Message>,
}

#[async_trait]
impl Settle for MemorySettle {
    async fn reply(&mut self, body: Vec<u8>) {
        let slot = self.msg.as_ref().and_then(|m| m.reply.as_ref());
        if let Some(tx) = slot.and_then(|s| lock(s).take()) {
            // The caller may have timed out and gone; that is its business.
            let _ = tx.send(body);
        }
    }

    async fn ack(mut self: Box<Self>) {
        self.msg = None;
    }

    async fn requeue(mut self: Box<Self>) {
        if let Some(msg) = self.msg.take() {
            self.queue.give_back(&self.broker, msg);
        }
    }

    async fn dead_letter(mut self: Box<Self>, reason: DeadReason, detail: String) {
        if let Some(msg) = self.msg.take() {
            self.broker
                .dead_letter(self.queue.name(), msg, reason, Some(detail));
        }
    }
}

impl Drop for MemorySettle {
    fn drop(&mut self) {
        // Dropped unsettled: the consumer died mid-message.
        if let Some(msg) = self.msg.take() {
            self.queue.give_back(&self.broker, msg);
        }
    }
}
