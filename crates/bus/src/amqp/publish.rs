//! Publishing with publisher confirms and mandatory routing, and the call
//! side of request/reply over RabbitMQ's direct reply-to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicPublishOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::link::Failure;
use crate::error::BusError;

/// RabbitMQ's pseudo-queue for replies straight to the calling channel.
pub(crate) const DIRECT_REPLY_TO: &str = "amq.rabbitmq.reply-to";

/// Properties of every message the bus publishes. Persistent so that casts
/// and notifications survive a broker restart on durable queues.
pub(crate) fn properties() -> BasicProperties {
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_timestamp(now)
}

/// Publishes and waits for the broker's confirm. With `mandatory`, a message
/// no queue takes comes back and is reported as [`BusError::NoRoute`]
/// instead of vanishing.
pub(crate) async fn publish(
    channel: &Channel,
    exchange: &str,
    key: &str,
    mandatory: bool,
    body: &[u8],
    props: BasicProperties,
    deadline: Instant,
) -> Result<(), Failure> {
    let options = BasicPublishOptions {
        mandatory,
        immediate: false,
    };
    let confirmed = async {
        let confirm = channel
            .basic_publish(exchange.into(), key.into(), options, body, props)
            .await?;
        confirm.await
    };
    match tokio::time::timeout_at(deadline, confirmed).await {
        Err(_) => Err(Failure::Bus(BusError::Unavailable(None))),
        Ok(Err(e)) => Err(Failure::Amqp(e)),
        Ok(Ok(Confirmation::Nack(_))) => Err(Failure::Bus(BusError::Refused)),
        Ok(Ok(confirmation)) => match confirmation.take_message() {
            Some(_) => Err(Failure::Bus(BusError::NoRoute(key.to_string()))),
            None => Ok(()),
        },
    }
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Vec<u8>>>>>;

fn lock(p: &Pending) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Vec<u8>>>> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// The calling side of request/reply on one connection: a confirm-mode
/// channel that consumes its own direct reply-to (which must happen before
/// the first publish), and the calls waiting for replies by correlation id.
pub(crate) struct Rpc {
    pub channel: Channel,
    pending: Pending,
    alive: Arc<AtomicBool>,
}

impl Rpc {
    pub(crate) async fn start(conn: &Connection) -> lapin::Result<Rpc> {
        let channel = conn.create_channel().await?;
        channel.confirm_select(Default::default()).await?;
        let options = BasicConsumeOptions {
            no_ack: true,
            ..Default::default()
        };
        let mut replies = channel
            .basic_consume(
                DIRECT_REPLY_TO.into(),
                "".into(),
                options,
                FieldTable::default(),
            )
            .await?;
        let pending = Pending::default();
        let alive = Arc::new(AtomicBool::new(true));
        let (p, a) = (pending.clone(), alive.clone());
        tokio::spawn(async move {
            while let Some(Ok(reply)) = replies.next().await {
                let id = reply
                    .properties
                    .correlation_id()
                    .as_ref()
                    .map(|c| c.to_string());
                match id.and_then(|id| lock(&p).remove(&id)) {
                    Some(waiter) => {
                        let _ = waiter.send(reply.data);
                    }
                    None => {
                        tracing::debug!("dropping a reply nobody waits for (late or duplicate)")
                    }
                }
            }
            // The channel is gone with its reply address: wake every waiting
            // call (they fail as Unavailable) instead of letting them time out.
            a.store(false, Ordering::SeqCst);
            lock(&p).clear();
        });
        Ok(Rpc {
            channel,
            pending,
            alive,
        })
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Publishes a call whose reply will be delivered to the returned receiver.
    pub(crate) async fn send(
        &self,
        topic: &str,
        correlation_id: &str,
        body: &[u8],
        deadline: Instant,
    ) -> Result<oneshot::Receiver<Vec<u8>>, Failure> {
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(correlation_id.to_string(), tx);
        let props = properties()
            .with_delivery_mode(1)
            .with_reply_to(DIRECT_REPLY_TO.into())
            .with_correlation_id(correlation_id.into())
            .with_message_id(correlation_id.into());
        match publish(&self.channel, "", topic, true, body, props, deadline).await {
            Ok(()) => Ok(rx),
            Err(e) => {
                self.forget(correlation_id);
                Err(e)
            }
        }
    }

    pub(crate) fn forget(&self, correlation_id: &str) {
        lock(&self.pending).remove(correlation_id);
    }
}
