//! The scheduler's bus side: agents' registrations (calls) and
//! heartbeats (casts) on `scheduler` (`virga_protocol::scheduler`).

use virga_bus::{BusError, HandlerError, Incoming, handler_fn};
use virga_common::Error;
use virga_common::error::chain;
use virga_protocol::from_parts;
use virga_protocol::scheduler::{NodeCall, TOPIC};
use virga_service::ServiceContext;

use crate::app::node_report;

/// Serves the topic until shutdown. A refusal (a bad report) is a definite
/// answer; a database outage is retried by redelivery.
pub async fn serve(ctx: &ServiceContext) -> Result<(), BusError> {
    let handler_ctx = ctx.clone();
    let handler = handler_fn(move |msg: Incoming| {
        let ctx = handler_ctx.clone();
        async move {
            let call = from_parts::<NodeCall>(&msg.envelope.method, msg.envelope.args)
                .map_err(|e| HandlerError::fail("BadRequest", chain(&e)))?;
            match node_report::handle(&ctx, call).await {
                Ok(reply) => Ok(serde_json::to_value(reply).expect("a reply serializes")),
                Err(e @ Error::Internal(_)) => {
                    tracing::error!(error = %chain(&e), "node report failed");
                    Err(HandlerError::retry(
                        "the scheduler's database is unavailable",
                    ))
                }
                Err(e) => Err(HandlerError::from(e)),
            }
        }
    });
    let consumer = ctx.bus().serve(TOPIC, handler).await?;
    let shutdown = ctx.shutdown().clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        consumer.stop().await;
    });
    Ok(())
}
