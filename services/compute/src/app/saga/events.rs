//! What nodes' agents report about servers (`agent.instance.state` and
//! full `agent.report`s), applied to the records and to the sagas waiting
//! for them. A report older than the server's generation says nothing
//! about what was last asked and is ignored; a server missing from its
//! node's full report is gone only for a delete that waits for it.

use std::collections::BTreeSet;

use virga_bus::{BusError, HandlerError, Incoming, handler_fn};
use virga_common::Error;
use virga_common::error::chain;
use virga_protocol::agent::{AgentEvent, InstanceState, InstanceStatus};
use virga_protocol::from_parts;
use virga_service::ServiceContext;

use super::{CREATE, DELETE, action, confirm, create, delete, migration};
use crate::app::server_state::{power, vm};
use crate::db::{instance, instance_saga, now};

/// Consumes agents' events until shutdown (one consumer group: each
/// event is handled once); a database outage is retried by redelivery.
pub async fn serve(ctx: &ServiceContext) -> Result<(), BusError> {
    let handler_ctx = ctx.clone();
    let handler = handler_fn(move |msg: Incoming| {
        let ctx = handler_ctx.clone();
        async move {
            let r = match from_parts::<AgentEvent>(&msg.envelope.method, msg.envelope.args) {
                Ok(AgentEvent::InstanceState { node, status, .. }) => {
                    state(&ctx, &node, &status).await
                }
                Ok(AgentEvent::Report {
                    node, instances, ..
                }) => report(&ctx, &node, &instances).await,
                Ok(AgentEvent::DiskExported {
                    node,
                    instance,
                    reason,
                    ..
                }) => migration::exported(&ctx, &node, &instance, reason.as_deref()).await,
                _ => Ok(()),
            };
            r.map_err(|e| {
                tracing::error!(error = %chain(&e), "agent event failed");
                HandlerError::retry("the compute service cannot apply an agent's event now")
            })?;
            Ok(serde_json::Value::Null)
        }
    });
    let consumer = ctx
        .bus()
        .subscribe(virga_protocol::agent::EVENTS, Some("compute"), handler)
        .await?;
    let shutdown = ctx.shutdown().clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        consumer.stop().await;
    });
    Ok(())
}

async fn report(ctx: &ServiceContext, node: &str, all: &[InstanceStatus]) -> Result<(), Error> {
    for s in all {
        state(ctx, node, s).await?;
    }
    let held: BTreeSet<&str> = all.iter().map(|s| s.instance.as_str()).collect();
    for server in instance::on_node(ctx.db(), node).await? {
        if held.contains(server.id.as_str()) {
            continue;
        }
        if let Some(saga) = instance_saga::find(ctx.db(), &server.id).await?
            && saga.kind == DELETE
            && saga.step == delete::GONE
        {
            delete::gone(ctx, saga, server).await?;
        }
    }
    Ok(())
}

async fn state(ctx: &ServiceContext, node: &str, s: &InstanceStatus) -> Result<(), Error> {
    let Some(server) = instance::find(ctx.db(), &s.instance).await? else {
        return Ok(());
    };
    if server.node_id.as_deref() != Some(node)
        || i64::try_from(s.generation).unwrap_or(i64::MAX) < server.generation
    {
        return Ok(());
    }
    let saga = instance_saga::find(ctx.db(), &server.id).await?;
    match (saga, s.state) {
        (Some(saga), InstanceState::Running)
            if saga.kind == CREATE && saga.step == create::WAIT =>
        {
            create::built(ctx, saga).await
        }
        (Some(saga), InstanceState::Error) if saga.kind == CREATE && saga.step == create::WAIT => {
            let why = s.reason.clone().unwrap_or_default();
            let message = format!("Build of instance {} aborted: {why}", server.id);
            create::fail(ctx, saga, server, &message, &why, true).await
        }
        (Some(saga), InstanceState::Deleted)
            if saga.kind == DELETE && saga.step == delete::GONE =>
        {
            delete::gone(ctx, saga, server).await
        }
        (Some(saga), _)
            if action::KINDS.contains(&saga.kind.as_str()) && saga.step == action::WAIT =>
        {
            action::reported(ctx, saga, s).await
        }
        (Some(saga), _)
            if migration::KINDS.contains(&saga.kind.as_str())
                && [migration::STOP, migration::BUILD].contains(&saga.step.as_str()) =>
        {
            migration::reported(ctx, saga, s).await
        }
        (Some(saga), _) if saga.kind == confirm::REVERT && saga.step == confirm::WAIT => {
            confirm::reported(ctx, saga, s).await
        }
        (None, st) if server.vm_state != vm::DELETED => {
            let p = match st {
                InstanceState::Running => power::RUNNING,
                InstanceState::Paused => power::PAUSED,
                InstanceState::Stopped => power::SHUTDOWN,
                InstanceState::Crashed => power::CRASHED,
                _ => return Ok(()),
            };
            if p == server.power_state {
                return Ok(());
            }
            let txn = virga_db::begin_write(ctx.db())
                .await
                .map_err(Error::internal)?;
            if let Some(mut m) = instance::lock(&txn, &server.id).await?
                && m.generation == server.generation
                && m.vm_state != vm::DELETED
            {
                // Shut down from inside the guest: the node keeps it
                // stopped, and so does the record (as Nova's power sync).
                if p == power::SHUTDOWN && m.vm_state == vm::ACTIVE && m.task_state.is_none() {
                    m.vm_state = vm::STOPPED.into();
                }
                m.power_state = p;
                m.updated_at = now();
                instance::update(&txn, m).await?;
            }
            txn.commit().await.map_err(Error::internal)?;
            Ok(())
        }
        _ => Ok(()),
    }
}
