//! Agents' `agent.network` reports: what each node offers and applied.

use virga_common::Error;
use virga_db::sea_orm::sea_query::Expr;
use virga_db::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use virga_service::ServiceContext;

use crate::db::{internal, network_node, now, port};

/// Of a stored plan, only its ports' ids (the rest is not parsed).
#[derive(Default, serde::Deserialize)]
struct PlannedPorts {
    #[serde(default)]
    ports: Vec<PlannedPort>,
}

#[derive(serde::Deserialize)]
struct PlannedPort {
    port_id: String,
}

/// One report, as the event says it.
pub struct Report {
    pub node: String,
    pub generation: u64,
    pub errors: Vec<String>,
    pub tunnel_ip: Option<std::net::IpAddr>,
    pub physical_networks: Vec<String>,
    /// Whether it answers a command (else: a start or a changed outcome).
    pub prompted: bool,
}

/// Records the report; plans again for a new node or one that lost a
/// plan; marks the ports of the node's last plan `ACTIVE` once it applied
/// cleanly (a port bound since is not in it yet).
pub async fn reported(ctx: &ServiceContext, r: Report) -> Result<(), Error> {
    let row = network_node::report(
        ctx.db(),
        network_node::Model {
            node_id: r.node.clone(),
            tunnel_ip: r.tunnel_ip.map(|ip| ip.to_string()),
            physical_networks: serde_json::to_string(&r.physical_networks)
                .expect("names serialize"),
            generation: 0,
            plan_hash: String::new(),
            plan: "{}".into(),
            applied_generation: r.generation as i64,
            errors: serde_json::to_string(&r.errors).expect("messages serialize"),
            reported_at: now(),
        },
    )
    .await?;
    let behind = (r.generation as i64) < row.generation;
    if row.plan_hash.is_empty() || (behind && !r.prompted) {
        network_node::resend(ctx.db(), &r.node).await?;
        super::kick(ctx);
    } else if r.generation == 0 {
        // A node (re)starting with its address or networks changed.
        super::kick(ctx);
    }
    if !behind && r.generation > 0 && r.errors.is_empty() {
        let plan: PlannedPorts = serde_json::from_str(&row.plan).unwrap_or_default();
        let ids: Vec<String> = plan.ports.into_iter().map(|p| p.port_id).collect();
        mark_active(ctx.db(), &r.node, ids).await?;
    }
    Ok(())
}

/// Marks these ports `ACTIVE`, if they are still bound to the node.
async fn mark_active(db: &impl ConnectionTrait, node: &str, ids: Vec<String>) -> Result<(), Error> {
    for chunk in ids.chunks(500) {
        port::Entity::update_many()
            .col_expr(port::Column::Status, Expr::value("ACTIVE"))
            .filter(port::Column::Id.is_in(chunk.to_vec()))
            .filter(port::Column::BindingHostId.eq(node))
            .filter(port::Column::Status.ne("ACTIVE"))
            .exec(db)
            .await
            .map_err(internal)?;
    }
    Ok(())
}
