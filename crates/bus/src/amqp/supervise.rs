//! The connection supervisor. It owns the one AMQP connection of a bus,
//! notices its loss (connection error events, a periodic health check, or a
//! failed operation reporting in), reconnects with capped exponential
//! backoff and re-declares the shared topology.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lapin::{Connection, ConnectionProperties, Event};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use super::link::Live;
use super::publish::{ConfirmChannel, Publishers, Rpc};
use super::topology;
use crate::backoff::Backoff;
use crate::options::BusOptions;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn establish(url: &str, options: &BusOptions) -> Result<Live, lapin::Error> {
    let props = ConnectionProperties::default()
        .with_connection_name(options.connection_name.clone().into());
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(url, props))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connecting timed out"))??;
    let first = ConfirmChannel::open(&conn).await?;
    topology::declare_shared(&first.channel).await?;
    let publisher = Publishers::new(first);
    let rpc = Rpc::start(&conn).await?;
    Ok(Live {
        conn,
        publisher,
        rpc,
        declared: Default::default(),
    })
}

enum End {
    /// The bus was closed, or nothing uses the connection any more.
    Done,
    Lost,
}

pub(super) async fn supervise(
    url: String,
    options: BusOptions,
    tx: watch::Sender<Option<Arc<Live>>>,
    kick: Arc<Notify>,
    closed: CancellationToken,
) {
    // Kept across connections: one that dies right after it is made must
    // not be remade in a tight loop, each time returning every consumer's
    // message in flight (which counts against its delivery limit).
    let mut backoff = Backoff::default();
    backoff.succeeded();
    loop {
        let current = tx.borrow().clone();
        if let Some(live) = current {
            let end = watch_connection(&live, &tx, &kick, &closed).await;
            tx.send_replace(None);
            // Closing also ends consumers still attached to a half-broken
            // connection, so they resubscribe on the new one.
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                live.conn.close(200, "reconnecting".into()),
            )
            .await;
            if let End::Done = end {
                return;
            }
            let pause = backoff.pause();
            tracing::warn!(retry_in = ?pause, "lost the connection to the message broker; reconnecting");
            tokio::select! {
                _ = closed.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
        loop {
            let attempt = tokio::select! {
                _ = closed.cancelled() => return,
                _ = tx.closed() => return,
                r = establish(&url, &options) => r,
            };
            match attempt {
                Ok(live) => {
                    tracing::info!("reconnected to the message broker");
                    tx.send_replace(Some(Arc::new(live)));
                    backoff.succeeded();
                    break;
                }
                Err(error) => {
                    let pause = backoff.pause();
                    tracing::warn!(%error, retry_in = ?pause, "cannot reconnect to the message broker");
                    tokio::select! {
                        _ = closed.cancelled() => return,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
    }
}

async fn watch_connection(
    live: &Live,
    tx: &watch::Sender<Option<Arc<Live>>>,
    kick: &Notify,
    closed: &CancellationToken,
) -> End {
    let mut events = Box::pin(live.conn.events_listener());
    // Errors are also announced as events, but a check every second catches
    // a channel the broker closed on its own.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = closed.cancelled() => return End::Done,
            _ = tx.closed() => return End::Done,
            event = events.next() => match event {
                Some(Event::Error(error)) => {
                    tracing::warn!(%error, "message broker connection failed");
                    return End::Lost;
                }
                None => return End::Lost,
                Some(_) => {}
            },
            _ = kick.notified() => if !live.healthy() { return End::Lost },
            _ = tick.tick() => if !live.healthy() { return End::Lost },
        }
    }
}
