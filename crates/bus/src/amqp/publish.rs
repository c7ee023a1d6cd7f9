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
use crate::sync::lock;

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

/// A channel in confirm mode that publishes one message at a time.
///
/// lapin hands a returned (unroutable) message to whichever confirm
/// completes next, and completes the tags of a multiple ack in no set
/// order, so with several publishes in flight a `NoRoute` could be reported
/// for a routed message while the unroutable one passed as confirmed.
/// One publish in flight per channel keeps each return with its own message.
pub(crate) struct ConfirmChannel {
    pub channel: Channel,
    turn: tokio::sync::Mutex<()>,
}

impl ConfirmChannel {
    pub(crate) async fn open(conn: &Connection) -> lapin::Result<Self> {
        let channel = conn.create_channel().await?;
        channel.confirm_select(Default::default()).await?;
        Ok(ConfirmChannel {
            channel,
            turn: tokio::sync::Mutex::new(()),
        })
    }

    /// Publishes and waits for the broker's confirm. With `mandatory`, a
    /// message no queue takes comes back and is reported as
    /// [`BusError::NoRoute`] instead of vanishing.
    pub(crate) async fn publish(
        &self,
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
            let _turn = self.turn.lock().await;
            let confirm = self
                .channel
                .basic_publish(exchange.into(), key.into(), options, body, props)
                .await?;
            confirm.await
        };
        settled(key, tokio::time::timeout_at(deadline, confirmed).await)
    }
}

/// Most confirm channels a connection publishes on at once.
const MOST_PUBLISHERS: usize = 16;

/// The confirm channels casts, notifications and dead-letters go out on:
/// one publish in flight on each (see [`ConfirmChannel`]), up to
/// [`MOST_PUBLISHERS`] at once, opened as concurrent publishes need them.
/// RabbitMQ confirms a persistent message once it is on disk, in batches;
/// on one channel every publish waited for the previous one's write, so a
/// busy service (compute telling many nodes) went at the broker's write
/// latency, one message at a time.
pub(crate) struct Publishers {
    idle: Mutex<Vec<ConfirmChannel>>,
    turns: tokio::sync::Semaphore,
}

impl Publishers {
    /// The pool, starting with `first` (open: the connection is usable).
    pub(crate) fn new(first: ConfirmChannel) -> Self {
        Publishers {
            idle: Mutex::new(vec![first]),
            turns: tokio::sync::Semaphore::new(MOST_PUBLISHERS),
        }
    }

    /// An idle channel of this connection's to publish on, waiting for a
    /// turn until `deadline`; a new one opened when none is idle. It goes
    /// back to the pool when the lease is dropped, unless it broke.
    pub(crate) async fn take(
        &self,
        conn: &Connection,
        deadline: Instant,
    ) -> Result<Lease<'_>, Failure> {
        let Ok(Ok(turn)) = tokio::time::timeout_at(deadline, self.turns.acquire()).await else {
            return Err(Failure::Bus(BusError::Unavailable(None)));
        };
        let idle = {
            let mut idle = lock(&self.idle);
            idle.retain(|c| c.channel.status().connected());
            idle.pop()
        };
        let channel = match idle {
            Some(c) => c,
            None => ConfirmChannel::open(conn).await?,
        };
        Ok(Lease {
            pool: self,
            channel: Some(channel),
            _turn: turn,
        })
    }
}

/// A confirm channel taken from [`Publishers`], used by one publish at a
/// time.
pub(crate) struct Lease<'a> {
    pool: &'a Publishers,
    channel: Option<ConfirmChannel>,
    _turn: tokio::sync::SemaphorePermit<'a>,
}

impl std::ops::Deref for Lease<'_> {
    type Target = ConfirmChannel;

    fn deref(&self) -> &ConfirmChannel {
        self.channel.as_ref().expect("held until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(c) = self
            .channel
            .take()
            .filter(|c| c.channel.status().connected())
        {
            lock(&self.pool.idle).push(c);
        }
    }
}

fn settled(
    key: &str,
    outcome: Result<lapin::Result<Confirmation>, tokio::time::error::Elapsed>,
) -> Result<(), Failure> {
    match outcome {
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

/// A call waiting for its reply. Dropping it (a timeout, or the caller's
/// future dropped by a cancelled request or a `select!`) removes the
/// call's entry, which would otherwise stay until the connection dies.
pub(crate) struct PendingReply {
    pub rx: oneshot::Receiver<Vec<u8>>,
    id: String,
    pending: Pending,
}

impl Drop for PendingReply {
    fn drop(&mut self) {
        lock(&self.pending).remove(&self.id);
    }
}

/// The calling side of request/reply on one connection: a confirm-mode
/// channel that consumes its own direct reply-to (which must happen before
/// the first publish), and the calls waiting for replies by correlation id.
pub(crate) struct Rpc {
    pub channel: ConfirmChannel,
    pending: Pending,
    alive: Arc<AtomicBool>,
}

impl Rpc {
    pub(crate) async fn start(conn: &Connection) -> lapin::Result<Rpc> {
        let channel = ConfirmChannel::open(conn).await?;
        let options = BasicConsumeOptions {
            no_ack: true,
            ..Default::default()
        };
        let mut replies = channel
            .channel
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

    #[cfg(feature = "testsuite")]
    pub(crate) fn pending(&self) -> usize {
        lock(&self.pending).len()
    }

    /// Publishes a call whose reply will be delivered to the returned
    /// waiter. The call expires in its queue when the caller stops waiting
    /// (`deadline`), so a consumer coming later never runs it.
    pub(crate) async fn send(
        &self,
        topic: &str,
        correlation_id: &str,
        body: &[u8],
        deadline: Instant,
    ) -> Result<PendingReply, Failure> {
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(correlation_id.to_string(), tx);
        let waiter = PendingReply {
            rx,
            id: correlation_id.to_string(),
            pending: self.pending.clone(),
        };
        // At least 1 ms: an expiration of 0 is a special case for RabbitMQ
        // (deliver at once to a waiting consumer, else expire).
        let ttl = deadline
            .saturating_duration_since(Instant::now())
            .as_millis()
            .max(1);
        let props = properties()
            .with_delivery_mode(1)
            .with_reply_to(DIRECT_REPLY_TO.into())
            .with_correlation_id(correlation_id.into())
            .with_message_id(correlation_id.into())
            .with_expiration(ttl.to_string().into());
        self.channel
            .publish("", topic, true, body, props, deadline)
            .await?;
        Ok(waiter)
    }
}
