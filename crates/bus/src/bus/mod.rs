//! The [`Bus`] facade every service uses: it picks the transport from the
//! configuration and keeps track of its consumers so a crash can be
//! modelled with [`Bus::close_abruptly`]. The sending side (envelopes,
//! calls, casts, notifications) is in `send.rs`.

mod send;

use std::sync::{Arc, Mutex};

use tokio::task::AbortHandle;
use tokio::time::Instant;
use virga_common::config::BusConfig;

use crate::consumer::Consumer;
use crate::dead_letter::DeadLetter;
use crate::error::BusError;
use crate::handler::Handler;
use crate::memory::{MemoryBroker, MemoryTransport};
use crate::options::BusOptions;
use crate::sync::lock;
use crate::transport::{SourceSpec, Transport};
use send::{check_name, check_topic};

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

    /// How long an operation other than a call may wait for the broker.
    fn deadline(&self) -> Instant {
        Instant::now() + self.inner.options.call_timeout
    }

    /// Consumes calls and casts sent to `topic`, competing with every other
    /// consumer of the topic. The queue exists when this returns.
    pub async fn serve(&self, topic: &str, handler: impl Handler) -> Result<Consumer, BusError> {
        check_topic(topic)?;
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
        let mut all = lock(&self.inner.consumers);
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

    /// How many calls of this bus wait for a reply, to check that
    /// abandoned calls leave nothing behind.
    #[cfg(feature = "testsuite")]
    pub fn pending_calls(&self) -> usize {
        self.inner.transport.pending_calls()
    }

    /// Drops the connection and every consumer of this bus (all clones) as
    /// a crash would: nothing in flight is acknowledged, so the broker
    /// redelivers it elsewhere. The bus is unusable afterwards.
    pub async fn close_abruptly(&self) {
        let handles = std::mem::take(&mut *lock(&self.inner.consumers));
        for h in &handles {
            h.abort();
        }
        self.inner.transport.close_abruptly().await;
    }
}
