//! The connection supervisor. It owns the one AMQP connection of a bus,
//! notices its loss (connection error events, a periodic health check, or a
//! failed operation reporting in), reconnects with capped exponential backoff
//! and re-declares the shared topology. Everything else reaches the broker
//! through [`Link::live`], which waits out an outage instead of failing at once.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lapin::{Channel, Connection, ConnectionProperties, Event};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::publish::Rpc;
use super::topology;
use crate::error::BusError;
use crate::options::BusOptions;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// One established connection with its shared channels.
pub(crate) struct Live {
    pub conn: Connection,
    /// Confirm-mode channel for casts, notifications and dead-lettering.
    pub publisher: Channel,
    pub rpc: Rpc,
}

impl Live {
    pub(crate) fn healthy(&self) -> bool {
        self.conn.status().connected() && self.publisher.status().connected() && self.rpc.is_alive()
    }
}

/// Why an operation on a live connection failed.
pub(crate) enum Failure {
    /// A definite answer; retrying will not change it.
    Bus(BusError),
    /// Broker trouble: transient if the connection turns out broken.
    Amqp(lapin::Error),
}

impl From<lapin::Error> for Failure {
    fn from(e: lapin::Error) -> Self {
        Failure::Amqp(e)
    }
}

/// A handle on the supervised connection. Clones share it; the connection
/// is closed once every clone is gone.
#[derive(Clone)]
pub(crate) struct Link {
    rx: watch::Receiver<Option<Arc<Live>>>,
    kick: Arc<Notify>,
    closed: CancellationToken,
}

impl Link {
    /// Makes the first connection (failing if it fails) and starts the supervisor.
    pub(crate) async fn connect(url: &str, options: &BusOptions) -> Result<Link, BusError> {
        let first = establish(url, options).await.map_err(BusError::Connect)?;
        let (tx, rx) = watch::channel(Some(Arc::new(first)));
        let link = Link {
            rx,
            kick: Arc::default(),
            closed: CancellationToken::new(),
        };
        let url = url.to_string();
        tokio::spawn(supervise(
            url,
            options.clone(),
            tx,
            link.kick.clone(),
            link.closed.clone(),
        ));
        Ok(link)
    }

    /// A healthy connection, waiting for one until `deadline` (forever if none).
    pub(crate) async fn live(&self, deadline: Option<Instant>) -> Result<Arc<Live>, BusError> {
        let mut rx = self.rx.clone();
        let wait = async {
            let guard = rx
                .wait_for(|l| l.as_ref().is_some_and(|l| l.healthy()))
                .await;
            guard
                .map(|l| l.clone().expect("waited for Some"))
                .map_err(|_| BusError::Closed)
        };
        tokio::select! {
            _ = self.closed.cancelled() => Err(BusError::Closed),
            r = async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d, wait).await.unwrap_or(Err(BusError::Unavailable(None))),
                    None => wait.await,
                }
            } => r,
        }
    }

    /// Asks the supervisor to check the connection now, after an operation failed.
    pub(crate) fn report(&self) {
        self.kick.notify_one();
    }

    pub(crate) fn is_connected(&self) -> bool {
        !self.closed.is_cancelled() && self.rx.borrow().as_ref().is_some_and(|l| l.healthy())
    }

    /// Closes the connection for good.
    pub(crate) async fn close(&self) {
        self.closed.cancel();
        let live = self.rx.borrow().clone();
        if let Some(live) = live {
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                live.conn.close(200, "bus closed".into()),
            )
            .await;
        }
    }

    /// Runs `op` on a healthy connection until `deadline`, starting over on a
    /// new connection when it failed because the connection broke.
    ///
    /// `op` gets the connection by value (not an async closure borrowing it)
    /// because the futures of async closures are not provably `Send` yet.
    pub(crate) async fn retrying<T, Fut>(
        &self,
        deadline: Instant,
        op: impl Fn(Arc<Live>) -> Fut,
    ) -> Result<T, BusError>
    where
        Fut: Future<Output = Result<T, Failure>>,
    {
        loop {
            let live = self.live(Some(deadline)).await?;
            let error = match tokio::time::timeout_at(deadline, op(live.clone())).await {
                Err(_) => return Err(BusError::Unavailable(None)),
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(Failure::Bus(e))) => return Err(e),
                Ok(Err(Failure::Amqp(e))) => e,
            };
            if live.healthy() {
                return Err(BusError::Broker(error));
            }
            self.report();
            if Instant::now() >= deadline {
                return Err(BusError::Unavailable(Some(error)));
            }
            tracing::debug!(%error, "broker operation failed with the connection; retrying");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn establish(url: &str, options: &BusOptions) -> Result<Live, lapin::Error> {
    let props = ConnectionProperties::default()
        .with_connection_name(options.connection_name.clone().into());
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(url, props))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connecting timed out"))??;
    let publisher = conn.create_channel().await?;
    publisher.confirm_select(Default::default()).await?;
    topology::declare_shared(&publisher).await?;
    let rpc = Rpc::start(&conn).await?;
    Ok(Live {
        conn,
        publisher,
        rpc,
    })
}

enum End {
    /// The bus was closed, or nothing uses the connection any more.
    Done,
    Lost,
}

async fn supervise(
    url: String,
    options: BusOptions,
    tx: watch::Sender<Option<Arc<Live>>>,
    kick: Arc<Notify>,
    closed: CancellationToken,
) {
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
            tracing::warn!("lost the connection to the message broker; reconnecting");
        }
        let mut pause = FIRST_PAUSE;
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
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?pause, "cannot reconnect to the message broker");
                    tokio::select! {
                        _ = closed.cancelled() => return,
                        _ = tokio::time::sleep(pause) => {}
                    }
                    pause = (pause * 2).min(MAX_PAUSE);
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
