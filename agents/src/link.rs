//! The agent's side of the bus: it serves its own durable queue
//! (`agent.<node>`), registers the node with the scheduler, sends
//! heartbeats, and empties the outbox into events. When the bus goes
//! away nothing stops but the sending; when it comes back the agent
//! registers again and sends a full report, from which the centre
//! reconciles its records.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use virga_bus::{Bus, Consumer, Context, HandlerError, Incoming, handler_fn};
use virga_common::error::chain;
use virga_protocol::agent::{AgentCommand, topic};
use virga_protocol::scheduler::{NodeCall, TOPIC};
use virga_protocol::{from_parts, to_parts};

use crate::agent::BusSource;
use crate::commands::{self, Kick};
use crate::images::Images;
use crate::reconcile::Reconciler;

pub(crate) struct Link {
    pub rc: Reconciler,
    /// Told once the commands queued while the agent was away are in the
    /// ledger: the first reconcile pass waits for it.
    pub drained: tokio::sync::watch::Sender<bool>,
    pub kicks: mpsc::UnboundedSender<Kick>,
    pub registration: NodeCall,
    pub images: Arc<dyn Images>,
    pub procfs: PathBuf,
    pub heartbeat: Duration,
    pub call_timeout: Duration,
    pub shutdown: CancellationToken,
}

/// Pauses between attempts: 1 s growing to 30 s.
struct Retry(Duration);

impl Retry {
    fn new() -> Self {
        Retry(Duration::from_secs(1))
    }
    fn next(&mut self) -> Duration {
        let p = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(30));
        p
    }
}

impl Link {
    /// Sleeps, unless shutdown comes first (then false).
    async fn pause(&self, d: Duration) -> bool {
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            _ = tokio::time::sleep(d) => true,
        }
    }

    pub(crate) async fn run(self, source: BusSource) {
        let Some(bus) = self.connect(source).await else {
            return;
        };
        let last = Arc::new(std::sync::Mutex::new(std::time::Instant::now()));
        let Some(consumer) = self.serve(&bus, last.clone()).await else {
            return;
        };
        // Quiet from when the queue is consumed, not from before.
        *last.lock().unwrap_or_else(|p| p.into_inner()) = std::time::Instant::now();
        tokio::spawn(drain_watch(
            last,
            self.drained.clone(),
            self.shutdown.clone(),
        ));
        let sender = tokio::spawn(send_loop(
            self.rc.clone(),
            bus.clone(),
            self.shutdown.clone(),
        ));
        self.heartbeats(&bus).await;
        consumer.stop().await;
        let _ = sender.await;
    }

    async fn connect(&self, source: BusSource) -> Option<Bus> {
        let config = match source {
            BusSource::Ready(bus) => return Some(bus),
            BusSource::Connect(c) => c,
        };
        let mut retry = Retry::new();
        loop {
            match Bus::connect(&config).await {
                Ok(bus) => return Some(bus),
                Err(e) => {
                    tracing::warn!(error = %chain(&e), "cannot reach the bus; instances keep running, retrying");
                    if !self.pause(retry.next()).await {
                        return None;
                    }
                }
            }
        }
    }

    async fn serve(
        &self,
        bus: &Bus,
        last: Arc<std::sync::Mutex<std::time::Instant>>,
    ) -> Option<Consumer> {
        let rc = self.rc.clone();
        let kicks = self.kicks.clone();
        let handler = handler_fn(move |msg: Incoming| {
            let (rc, kicks, last) = (rc.clone(), kicks.clone(), last.clone());
            async move {
                let r = match from_parts::<AgentCommand>(&msg.envelope.method, msg.envelope.args) {
                    Ok(cmd) => commands::handle(&rc, &kicks, cmd).await,
                    Err(e) => Err(HandlerError::fail("BadRequest", chain(&e))),
                };
                // Stamped once the command is in the ledger.
                *last.lock().unwrap_or_else(|p| p.into_inner()) = std::time::Instant::now();
                r
            }
        });
        let handler = Arc::new(handler);
        let mut retry = Retry::new();
        loop {
            match bus.serve(&topic(&self.rc.node), handler.clone()).await {
                Ok(c) => return Some(c),
                Err(e) => {
                    tracing::warn!(error = %chain(&e), "cannot consume the agent's queue; retrying");
                    if !self.pause(retry.next()).await {
                        return None;
                    }
                }
            }
        }
    }

    async fn register(&self, bus: &Bus) -> bool {
        let (method, args) = to_parts(&self.registration);
        match bus
            .call(TOPIC, &method, args, &Context::default(), self.call_timeout)
            .await
        {
            Ok(_) => {
                tracing::info!(node = %self.rc.node, "registered with the scheduler");
                true
            }
            Err(e) => {
                tracing::warn!(error = %chain(&e), "registration failed; retrying");
                false
            }
        }
    }

    /// Registers, then heartbeats until shutdown. Whenever the scheduler
    /// becomes reachable again: registers again and sends a full report.
    async fn heartbeats(&self, bus: &Bus) {
        let mut registered = false;
        let mut retry = Retry::new();
        loop {
            if !registered {
                registered = self.register(bus).await;
                if registered {
                    retry = Retry::new();
                    let _ = self.kicks.send(Kick::Report);
                } else if !self.pause(retry.next()).await {
                    return;
                } else {
                    continue;
                }
            }
            let beat = NodeCall::Heartbeat {
                node: self.rc.node.clone(),
                load: self.load(),
                images: self.images.held(),
                layers: Vec::new(),
            };
            let (method, args) = to_parts(&beat);
            if let Err(e) = bus.cast(TOPIC, &method, args, &Context::default()).await {
                tracing::warn!(error = %chain(&e), "heartbeat not sent; the centre is unreachable");
                registered = false;
            }
            if !self.pause(self.heartbeat).await {
                return;
            }
        }
    }

    /// Load and health for the heartbeat.
    fn load(&self) -> serde_json::Value {
        let loadavg: Vec<f64> = std::fs::read_to_string(self.procfs.join("loadavg"))
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .filter_map(|v| v.parse().ok())
            .collect();
        let available_mb = std::fs::read_to_string(self.procfs.join("meminfo"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("MemAvailable:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            })
            .map(|kib| kib / 1024);
        json!({
            "loadavg": loadavg,
            "memory_available_mb": available_mb,
            "outbox": self.rc.outbox.len(),
            "healthy": true,
        })
    }
}

/// How long the queue must stay quiet after the consumer starts for what
/// was queued while the agent was away to count as delivered: the broker
/// hands a backlog over at once, each command a ledger write.
const QUIET: Duration = Duration::from_millis(300);

/// Says `drained` once no command has come for [`QUIET`].
async fn drain_watch(
    last: Arc<std::sync::Mutex<std::time::Instant>>,
    drained: tokio::sync::watch::Sender<bool>,
    shutdown: CancellationToken,
) {
    loop {
        let since = last.lock().unwrap_or_else(|p| p.into_inner()).elapsed();
        if since >= QUIET {
            let _ = drained.send(true);
            return;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(QUIET - since) => {}
        }
    }
}

/// Publishes the outbox's events in order, waiting out a missing bus.
async fn send_loop(rc: Reconciler, bus: Bus, shutdown: CancellationToken) {
    let mut retry = Retry::new();
    loop {
        let (seq, event) = tokio::select! {
            _ = shutdown.cancelled() => return,
            item = rc.outbox.front() => item,
        };
        let (method, args) = to_parts(&event);
        match bus.notify(&method, args, &Context::default()).await {
            Ok(()) => {
                rc.outbox.sent(seq);
                retry = Retry::new();
            }
            Err(e) => {
                tracing::warn!(error = %chain(&e), queued = rc.outbox.len(), "report not sent; kept for later");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(retry.next()) => {}
                }
            }
        }
    }
}
