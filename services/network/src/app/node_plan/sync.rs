//! One plan sync: lock, keep DHCP ports, build, record what is sent, and
//! send after the commit.

use sha2::{Digest, Sha256};
use virga_bus::Context;
use virga_common::Error;
use virga_protocol::agent::{AgentCommand, topic};
use virga_protocol::network::NodeNetwork;
use virga_protocol::to_parts;
use virga_service::ServiceContext;

use super::snapshot::Snapshot;
use super::{build, dhcp_ports};
use crate::db::network_node;

/// Brings every node's plan up to date; returns how many were sent.
pub async fn sync(ctx: &ServiceContext) -> Result<usize, Error> {
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    network_node::lock(&txn).await?;
    let mut snap = Snapshot::load(&txn).await?;
    if dhcp_ports::keep(&txn, ctx, &snap).await? {
        snap = Snapshot::load(&txn).await?;
    }
    let plans = build::plans(&snap);
    let rows = network_node::all(&txn).await?;
    let mut outgoing = Vec::new();
    for row in rows {
        let Some(plan) = plans.get(&row.node_id) else {
            continue;
        };
        // A node that never carried a network is left untouched.
        if row.generation == 0 && *plan == NodeNetwork::default() {
            continue;
        }
        let json = serde_json::to_string(plan).expect("a plan serializes");
        let hash = hex(&Sha256::digest(json.as_bytes()));
        if hash == row.plan_hash {
            continue;
        }
        let generation = row.generation.max(row.applied_generation) + 1;
        network_node::sent(&txn, &row.node_id, generation, &hash, &json).await?;
        outgoing.push((row.node_id, generation, plan.clone()));
    }
    txn.commit().await.map_err(Error::internal)?;
    let sent = outgoing.len();
    for (node, generation, state) in outgoing {
        let cmd = AgentCommand::EnsureNetwork {
            request_id: format!("req-{}", uuid::Uuid::new_v4()),
            generation: generation as u64,
            state: Box::new(state),
        };
        let (method, args) = to_parts(&cmd);
        if let Err(e) = ctx
            .bus()
            .cast(&topic(&node), &method, args, &Context::default())
            .await
        {
            tracing::warn!(%node, generation, error = %virga_common::error::chain(&e),
                "could not send the network plan; the next sync retries");
            network_node::resend(ctx.db(), &node).await?;
        } else {
            tracing::info!(%node, generation, "network plan sent");
        }
    }
    Ok(sent)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
