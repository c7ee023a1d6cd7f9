//! The bus side every service shares: answering liveness calls on
//! `service.<name>` and announcing start and stop.

use virga_bus::{BusError, Consumer, Context, HandlerError, Incoming, handler_fn};
use virga_protocol::service::{Pong, ServiceCall, ServiceEvent, topic};
use virga_protocol::{from_parts, to_parts};

use crate::ServiceContext;

pub(crate) async fn serve_liveness(ctx: &ServiceContext) -> Result<Consumer, BusError> {
    let pong = Pong {
        service: ctx.name().into(),
        host: ctx.config().host.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
        started_at: ctx.started_at(),
    };
    let handler = handler_fn(move |msg: Incoming| {
        let pong = pong.clone();
        async move {
            match from_parts::<ServiceCall>(&msg.envelope.method, msg.envelope.args) {
                Ok(ServiceCall::Ping {}) => {
                    Ok(serde_json::to_value(pong).expect("pong serializes"))
                }
                Err(e) => Err(HandlerError::fail("BadRequest", e.to_string())),
            }
        }
    });
    ctx.bus().serve(&topic(ctx.name()), handler).await
}

/// Publishes a service event; a failure is logged, not fatal, because the
/// service works without anyone hearing its announcement.
pub(crate) async fn announce(ctx: &ServiceContext, event: ServiceEvent) {
    let (method, args) = to_parts(&event);
    if let Err(e) = ctx.bus().notify(&method, args, &Context::default()).await {
        tracing::warn!(event = %method, error = %virga_common::error::chain(&e), "could not announce");
    }
}
