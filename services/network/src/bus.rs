//! The network service's bus side: agents' `agent.network` reports (one
//! consumer group: each report is handled once, by any replica).

use virga_bus::{BusError, HandlerError, Incoming, handler_fn};
use virga_common::error::chain;
use virga_protocol::agent::AgentEvent;
use virga_protocol::from_parts;
use virga_service::ServiceContext;

use crate::app::node_plan::report::{Report, reported};

const EVENT: &str = "agent.network";

/// Consumes reports until shutdown. A database outage is retried by
/// redelivery; anything else in the event is ignored.
pub async fn serve(ctx: &ServiceContext) -> Result<(), BusError> {
    let handler_ctx = ctx.clone();
    let handler = handler_fn(move |msg: Incoming| {
        let ctx = handler_ctx.clone();
        async move {
            let Ok(AgentEvent::Network {
                node,
                generation,
                errors,
                tunnel_ip,
                physical_networks,
                request_id,
                ..
            }) = from_parts::<AgentEvent>(&msg.envelope.method, msg.envelope.args)
            else {
                return Ok(serde_json::Value::Null);
            };
            let report = Report {
                node,
                generation,
                errors,
                tunnel_ip,
                physical_networks,
                prompted: request_id.is_some(),
            };
            reported(&ctx, report).await.map_err(|e| {
                tracing::error!(error = %chain(&e), "network report failed");
                HandlerError::retry("the network service's database is unavailable")
            })?;
            Ok(serde_json::Value::Null)
        }
    });
    let consumer = ctx.bus().subscribe(EVENT, Some("network"), handler).await?;
    let shutdown = ctx.shutdown().clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        consumer.stop().await;
    });
    Ok(())
}
