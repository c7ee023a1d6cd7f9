//! The [`Bus`] facade every service uses: it builds envelopes, picks the
//! transport from the configuration and keeps track of its consumers so a
//! crash can be modelled with [`Bus::close_abruptly`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use virga_common::config::BusConfig;

use crate::consumer::Consumer;
use crate::dead_letter::DeadLetter;
use crate::envelope::{Context, Envelope, Kind, ReplyOutcome};
use crate::error::BusError;
use crate::handler::Handler;
use crate::memory::{MemoryBroker, MemoryTransport};
use crate::options::BusOptions;
use crate::transport::{SourceSpec, Transport};

/// A connection to the message bus. Cheap to clone; all clones share the
/// connection and its consumers. The connection closes once the last clone
/// and the last [`Consumer`] are gone (dropping a `Consumer` aborts it), so
/// dropping everything behaves like [`Bus::close_abruptly`].
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Arc<dyn Transport>,
    options: BusOptions,
    consumers: Mutex<Vec<AbortHandle>>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl Bus {
    /// Connects as configured: `memory` joins this process's global
    /// in-process broker; an `amqp://` or `amqps://` URL connects to RabbitMQ.
    pub async fn connect(config: &BusConfig) -> Result<Bus, BusError> {
        let options = BusOptions::from(config);
        match config.url.as_str() {
            "memory" => Ok(Bus::memory_with(MemoryBroker::global(), options)),
            url if url.starts_with("amqp://") || url.starts_with("amqps://") => {
                Bus::amqp(url, options).await
            }
            url => Err(BusError::InvalidUrl(url.to_string())),
        }
    }

    /// A bus on an in-process broker, with default options.
    pub fn memory(broker: &MemoryBroker) -> Bus {
        Bus::memory_with(broker, BusOptions::default())
    }

    pub fn memory_with(broker: &MemoryBroker, options: BusOptions) -> Bus {
        let transport = MemoryTransport::new(broker.clone(), options.delivery_limit);
        Bus::from_transport(Arc::new(transport), options)
    }

    /// Connects to RabbitMQ. Fails if the first connection fails; after
    /// that the bus reconnects by itself whenever the connection is lost.
    pub async fn amqp(url: &str, options: BusOptions) -> Result<Bus, BusError> {
        let transport = crate::amqp::AmqpTransport::connect(url, options.clone()).await?;
        Ok(Bus::from_transport(Arc::new(transport), options))
    }

    fn from_transport(transport: Arc<dyn Transport>, options: BusOptions) -> Bus {
        Bus {
            inner: Arc::new(Inner {
                transport,
                options,
                consumers: Mutex::default(),
            }),
        }
    }

    pub fn options(&self) -> &BusOptions {
        &self.inner.options
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.inner.options.call_timeout
    }

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
        check_name(topic)?;
        let env = Envelope::new(Kind::Call, method, args, ctx);
        tracing::debug!(%topic, %method, id = %env.id, "bus call");
        let deadline = Instant::now() + timeout;
        let body = self
            .inner
            .transport
            .request(topic, env.id, env.encode(), deadline)
            .await?;
        let reply = Envelope::decode(&body)
            .and_then(|r| r.reply_body())
            .map_err(BusError::MalformedReply)?;
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
        check_name(topic)?;
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
        check_name(topic)?;
        self.inner.transport.declare(topic, self.deadline()).await
    }

    /// Consumes calls and casts sent to `topic`, competing with every other
    /// consumer of the topic. The queue exists when this returns.
    pub async fn serve(&self, topic: &str, handler: impl Handler) -> Result<Consumer, BusError> {
        check_name(topic)?;
        let source = self
            .inner
            .transport
            .open(SourceSpec::Topic(topic.into()), self.deadline())
            .await?;
        Ok(self.track(Consumer::spawn(
            topic.to_string(),
            source,
            Arc::new(handler),
        )))
    }

    /// Consumes notifications whose event name matches `pattern` (AMQP topic
    /// syntax: `*` one word, `#` any number). With a group, consumers of the
    /// same group share one durable queue (each event reaches one of them,
    /// and events wait for them while none runs); without, the subscription
    /// gets its own queue that ends with it.
    pub async fn subscribe(
        &self,
        pattern: &str,
        group: Option<&str>,
        handler: impl Handler,
    ) -> Result<Consumer, BusError> {
        check_name(pattern)?;
        if let Some(g) = group {
            check_name(g)?;
        }
        let spec = SourceSpec::Events {
            pattern: pattern.into(),
            group: group.map(String::from),
        };
        let source = self.inner.transport.open(spec, self.deadline()).await?;
        let name = match group {
            Some(g) => format!("{pattern}@{g}"),
            None => pattern.to_string(),
        };
        Ok(self.track(Consumer::spawn(name, source, Arc::new(handler))))
    }

    fn track(&self, consumer: Consumer) -> Consumer {
        let mut all = self
            .inner
            .consumers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        all.retain(|h| !h.is_finished());
        all.extend(consumer.abort_handle());
        consumer
    }

    /// Takes (removes) up to `max` messages from the dead-letter queue.
    pub async fn dead_letters(&self, max: usize) -> Result<Vec<DeadLetter>, BusError> {
        self.inner
            .transport
            .dead_letters(max, self.deadline())
            .await
    }

    /// Whether the bus has a working connection to its broker right now.
    pub fn is_connected(&self) -> bool {
        self.inner.transport.is_connected()
    }

    /// Drops the connection and every consumer of this bus (all clones) as
    /// a crash would: nothing in flight is acknowledged, so the broker
    /// redelivers it elsewhere. The bus is unusable afterwards.
    pub async fn close_abruptly(&self) {
        let handles = std::mem::take(
            &mut *self
                .inner
                .consumers
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for h in &handles {
            h.abort();
        }
        self.inner.transport.close_abruptly().await;
    }

    /// Puts raw bytes on the queue of `topic`, bypassing the envelope, to
    /// test how consumers treat malformed messages.
    #[cfg(feature = "testsuite")]
    pub async fn publish_raw(&self, topic: &str, body: Vec<u8>) -> Result<(), BusError> {
        check_name(topic)?;
        self.inner
            .transport
            .send(topic, body, self.deadline())
            .await
    }
}

/// Names become AMQP short strings (at most 255 bytes) and `amq.` is
/// reserved by RabbitMQ.
fn check_name(name: &str) -> Result<(), BusError> {
    if name.is_empty() || name.len() > 200 || name.starts_with("amq.") {
        return Err(BusError::InvalidName(name.to_string()));
    }
    Ok(())
}
