//! Node health reports: a node silent past `scheduler.node_stale_secs` is
//! announced down once (`scheduler.node.down`), and announced up when it
//! is heard again. The flag in the node's row makes the announcement
//! happen once however many scheduler processes watch.

use std::time::Duration;

use virga_bus::Context;
use virga_common::Error;
use virga_common::error::chain;
use virga_protocol::scheduler::NodeEvent;
use virga_protocol::to_parts;
use virga_service::ServiceContext;

use crate::db::{node, now};

async fn publish(ctx: &ServiceContext, ev: NodeEvent) {
    let (method, args) = to_parts(&ev);
    if let Err(e) = ctx.bus().notify(&method, args, &Context::default()).await {
        tracing::warn!(event = %method, error = %chain(&e), "could not publish");
    }
}

/// A node was heard: if it had been announced down, announce it up.
pub async fn heard(ctx: &ServiceContext, uuid: &str) -> Result<(), Error> {
    if node::mark_down_reported(ctx.db(), uuid, false).await? {
        let n = super::node::get(ctx, uuid).await?;
        tracing::info!(node = %uuid, hostname = %n.hostname, "node is back");
        publish(
            ctx,
            NodeEvent::Up {
                node: n.uuid,
                hostname: n.hostname,
                site: n.site_uuid,
            },
        )
        .await;
    }
    Ok(())
}

/// Announces every node that fell silent since the last look; how many.
pub async fn check(ctx: &ServiceContext) -> Result<usize, Error> {
    let stale = ctx.config().scheduler.node_stale_secs;
    let before = now() - chrono::Duration::seconds(stale as i64);
    let mut n = 0;
    for silent in node::newly_silent(ctx.db(), before).await? {
        if node::mark_down_reported(ctx.db(), &silent.uuid, true).await? {
            tracing::warn!(node = %silent.uuid, hostname = %silent.hostname, "node is down: not heard for {stale} s");
            publish(
                ctx,
                NodeEvent::Down {
                    node: silent.uuid,
                    hostname: silent.hostname,
                    site: silent.site_uuid,
                },
            )
            .await;
            n += 1;
        }
    }
    Ok(n)
}

/// Checks every half threshold (1 s to 30 s) until the service stops.
pub fn spawn(ctx: ServiceContext) {
    let every = Duration::from_secs((ctx.config().scheduler.node_stale_secs / 2).clamp(1, 30));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = ctx.shutdown().cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            if let Err(e) = check(&ctx).await {
                tracing::error!(error = %chain(&e), "node health check failed");
            }
        }
    });
}
