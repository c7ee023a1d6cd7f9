//! How the rest of the AMQP transport reaches the broker: [`Link::live`]
//! waits out an outage instead of failing at once, and [`Link::retrying`]
//! runs an operation again on the next connection when the connection broke
//! under it. The supervisor behind the link is in `supervise.rs`.

use std::sync::Arc;
use std::time::Duration;

use lapin::Connection;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::publish::{Publishers, Rpc};
use super::supervise::{establish, supervise};
use crate::error::BusError;
use crate::options::BusOptions;

/// One established connection with its shared channels.
pub(crate) struct Live {
    pub conn: Connection,
    /// Confirm-mode channels for casts, notifications and dead-lettering.
    pub publisher: Publishers,
    pub rpc: Rpc,
    /// The durable queues this connection has declared (a queue outlives
    /// its declaration; a new connection declares again).
    pub declared: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Live {
    pub(crate) fn declared(&self, topic: &str) -> bool {
        crate::sync::lock(&self.declared).contains(topic)
    }

    pub(crate) fn remember_declared(&self, topic: &str) {
        crate::sync::lock(&self.declared).insert(topic.to_owned());
    }

    pub(crate) fn healthy(&self) -> bool {
        self.conn.status().connected() && self.rpc.is_alive()
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

    /// The connection of the moment, healthy or not.
    #[cfg(feature = "testsuite")]
    pub(crate) fn current(&self) -> Option<Arc<Live>> {
        self.rx.borrow().clone()
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
