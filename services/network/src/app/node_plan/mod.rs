//! Each node's network plan (`virga_protocol::network::NodeNetwork`),
//! computed from the service's state and sent to the node's agent in
//! `ensure_network` whenever it changes.
//!
//! Any change that may touch a plan [`kick`]s the sync task; it also runs
//! every minute, catching what a lost message or another replica missed.
//! A sync locks `network_plan_lock` (syncs, across replicas, run one at a
//! time and each sees what the previous committed), keeps each node's
//! DHCP ports as its guests need them, builds every plan, and sends those
//! whose fingerprint changed with the node's next generation. Agents
//! answer with `agent.network` events ([`report`]): a node that reports an
//! older generation than was sent, unprompted (after a restart), is sent
//! its plan again; a node whose last plan applied cleanly has its bound
//! ports `ACTIVE`.

mod build;
mod dhcp_ports;
mod filter;
pub mod report;
mod router;
mod snapshot;
mod sync;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use virga_service::ServiceContext;

use sync::sync;

/// Wakes the sync task.
#[derive(Default)]
pub struct Kicker(Notify);

/// Asks for a sync soon (changes within a short window share one).
pub fn kick(ctx: &ServiceContext) {
    ctx.local::<Kicker>().0.notify_one();
}

/// How often plans are checked without a kick.
const EVERY: Duration = Duration::from_secs(60);
/// How long a kick waits for more changes to join it.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// Runs the sync task until shutdown.
pub fn spawn(ctx: ServiceContext) {
    let kicker: Arc<Kicker> = ctx.local::<Kicker>();
    tokio::spawn(async move {
        let shutdown = ctx.shutdown().clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = kicker.0.notified() => tokio::time::sleep(DEBOUNCE).await,
                _ = tokio::time::sleep(EVERY) => {}
            }
            if let Err(e) = sync(&ctx).await {
                tracing::warn!(error = %virga_common::error::chain(&e), "network plan sync failed");
            }
        }
    });
}
