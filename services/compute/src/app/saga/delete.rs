//! The delete saga's steps: destroy -> gone -> released and marked
//! deleted. A node that does not answer keeps the server in `deleting`
//! (its agent's queue holds the command): a server is never marked deleted
//! on silence, only on its node's word.

use serde_json::json;
use virga_common::Error;
use virga_protocol::agent::AgentCommand;
use virga_service::ServiceContext;

use super::{DELETE, data, release, row, tell};
use crate::app::server_state::{power, vm};
use crate::db::instance_saga::{self, Model};
use crate::db::{instance, now, server_group};

pub const DESTROY: &str = "destroy";
pub const GONE: &str = "gone";

/// The delete's event in the instance actions log (Nova's name).
pub const EVENT: &str = "compute_terminate_instance";

/// Tells the node to destroy the server, or, when it never had one,
/// ends at once.
pub async fn destroy(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    let Some(node) = server.node_id.clone() else {
        return gone(ctx, saga, server).await;
    };
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    instance::lock(&txn, &server.id).await?;
    let generation = instance::next_generation(&txn, &server.id).await?;
    let mut d = data(&saga);
    d["generation"] = json!(generation);
    let next = row(&server.id, DELETE, GONE, d, super::never());
    if !instance_saga::advance(&txn, &saga, &next).await? {
        return Ok(());
    }
    txn.commit().await.map_err(Error::internal)?;
    send(ctx, &node, &server.id, generation).await?;
    super::first_look(ctx, &server.id);
    Ok(())
}

async fn send(ctx: &ServiceContext, node: &str, id: &str, generation: i64) -> Result<(), Error> {
    let cmd = AgentCommand::Delete {
        request_id: format!("req-{}", uuid::Uuid::new_v4()),
        instance: id.to_owned(),
        generation: u64::try_from(generation).unwrap_or(0),
    };
    tell(ctx, node, &cmd).await?;
    // Its answer, or (for a guest the node already forgot) its absence
    // from the full report, ends the wait.
    tell(
        ctx,
        node,
        &AgentCommand::Report {
            request_id: format!("req-{}", uuid::Uuid::new_v4()),
        },
    )
    .await
}

/// Waiting for the node: the command is sent again once per run of this
/// service (a restarted one, or after a send that failed).
pub async fn waiting(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    let Some(node) = &server.node_id else {
        return Ok(());
    };
    if !super::first_look(ctx, &server.id) {
        return Ok(());
    }
    let generation = data(&saga)["generation"]
        .as_i64()
        .unwrap_or(server.generation);
    let sent = send(ctx, node, &server.id, generation).await;
    if sent.is_err() {
        super::forget(ctx, &server.id);
    }
    sent
}

/// The node has no guest left: its ports and its claim go back and the
/// server is marked deleted.
pub async fn gone(ctx: &ServiceContext, saga: Model, server: instance::Model) -> Result<(), Error> {
    super::ports::give_back(ctx, &server).await?;
    super::migration::abandon(ctx, &server).await?;
    release(ctx, std::slice::from_ref(&server.id)).await?;
    let Some((txn, mut m)) = super::finishing(ctx, &saga).await? else {
        return Ok(());
    };
    let at = now();
    m.vm_state = vm::DELETED.into();
    m.task_state = None;
    m.power_state = power::NOSTATE;
    m.deleted_at = Some(at);
    m.updated_at = at;
    if let Some(g) = &m.server_group_id {
        server_group::remove_member(&txn, g, &m.id).await?;
    }
    instance::update(&txn, m).await?;
    super::logged(&txn, &saga, Ok(())).await?;
    txn.commit().await.map_err(Error::internal)?;
    super::forget(ctx, &saga.instance_id);
    tracing::info!(instance = %saga.instance_id, "server deleted");
    Ok(())
}
