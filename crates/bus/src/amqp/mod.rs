//! The RabbitMQ transport (lapin): casts and calls to the default exchange
//! with mandatory routing and publisher confirms, notifications to the
//! `virga.events` topic exchange, quorum queues with a delivery limit, and a
//! supervisor that reconnects after the broker restarts.

mod consume;
mod dead_letters;
mod link;
mod publish;
mod settle;
mod supervise;
mod topology;

use async_trait::async_trait;
use tokio::time::Instant;
use virga_common::ids::MessageId;

use crate::dead_letter::DeadLetter;
use crate::error::BusError;
use crate::options::BusOptions;
use crate::transport::{EVENTS_EXCHANGE, Source, SourceSpec, Transport};
use link::{Failure, Link};

pub(crate) struct AmqpTransport {
    link: Link,
    limit: u32,
}

impl AmqpTransport {
    pub(crate) async fn connect(url: &str, options: BusOptions) -> Result<Self, BusError> {
        let link = Link::connect(url, &options).await?;
        Ok(AmqpTransport {
            link,
            limit: options.delivery_limit,
        })
    }
}

impl AmqpTransport {
    /// Publishes on the shared confirm channel, retrying across reconnections.
    async fn publish(
        &self,
        exchange: &str,
        key: &str,
        mandatory: bool,
        body: &[u8],
        deadline: Instant,
    ) -> Result<(), BusError> {
        self.link
            .retrying(deadline, |live| async move {
                let props = publish::properties();
                live.publisher
                    .take(&live.conn, deadline)
                    .await?
                    .publish(exchange, key, mandatory, body, props, deadline)
                    .await
            })
            .await
    }
}

#[async_trait]
impl Transport for AmqpTransport {
    async fn declare(&self, topic: &str, deadline: Instant) -> Result<(), BusError> {
        let limit = self.limit;
        self.link
            .retrying(deadline, |live| async move {
                // Once per topic and connection: a service tells the same
                // nodes' queues again and again, and a declaration costs a
                // channel and two round trips.
                if live.declared(topic) {
                    return Ok(());
                }
                // A channel of its own: a refused declaration closes the channel.
                let channel = live.conn.create_channel().await?;
                topology::declare_durable(&channel, topic, limit)
                    .await
                    .map_err(topology::refused)?;
                let _ = channel.close(200, "OK".into()).await;
                live.remember_declared(topic);
                Ok(())
            })
            .await
    }

    async fn send(&self, topic: &str, body: Vec<u8>, deadline: Instant) -> Result<(), BusError> {
        self.publish("", topic, true, &body, deadline).await
    }

    async fn publish_event(
        &self,
        event: &str,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<(), BusError> {
        self.publish(EVENTS_EXCHANGE, event, false, &body, deadline)
            .await
    }

    async fn request(
        &self,
        topic: &str,
        id: MessageId,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<Vec<u8>, BusError> {
        let correlation_id = id.to_string();
        let (cid, body) = (&correlation_id, &body);
        // Dropping `waiter` (timeout, or this future dropped) forgets the call.
        let mut waiter = self
            .link
            .retrying(deadline, |live| async move {
                live.rpc.send(topic, cid, body, deadline).await
            })
            .await?;
        match tokio::time::timeout_at(deadline, &mut waiter.rx).await {
            Ok(Ok(body)) => Ok(body),
            // The reply channel died with the connection: the call may or
            // may not have run, and its answer is lost.
            Ok(Err(_)) => Err(BusError::Unavailable(None)),
            Err(_) => Err(BusError::Timeout),
        }
    }

    async fn open(&self, spec: SourceSpec, deadline: Instant) -> Result<Box<dyn Source>, BusError> {
        let source =
            consume::AmqpSource::open(self.link.clone(), spec, self.limit, deadline).await?;
        Ok(Box::new(source))
    }

    async fn dead_letters(
        &self,
        max: usize,
        deadline: Instant,
    ) -> Result<Vec<DeadLetter>, BusError> {
        self.link
            .retrying(deadline, |live| async move {
                dead_letters::take(&live, max).await.map_err(Failure::Amqp)
            })
            .await
    }

    fn is_connected(&self) -> bool {
        self.link.is_connected()
    }

    #[cfg(feature = "testsuite")]
    fn pending_calls(&self) -> usize {
        self.link.current().map_or(0, |live| live.rpc.pending())
    }

    async fn close_abruptly(&self) {
        self.link.close().await;
    }
}
