//! Agents' `agent.network` reports: what each node offers and applied.

use virga_common::Error;
use virga_db::sea_orm::sea_query::Expr;
use virga_db::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use virga_service::ServiceContext;

use super::build::is_guest;
use crate::db::{internal, network_node, now, port};

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
/// plan; marks the node's ports `ACTIVE` once its plan applied cleanly.
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
        let ids: Vec<String> = port::Entity::find()
            .filter(port::Column::BindingHostId.eq(&r.node))
            .filter(port::Column::Status.ne("ACTIVE"))
            .all(ctx.db())
            .await
            .map_err(internal)?
            .into_iter()
            .filter(is_guest)
            .map(|p| p.id)
            .collect();
        if !ids.is_empty() {
            port::Entity::update_many()
                .col_expr(port::Column::Status, Expr::value("ACTIVE"))
                .filter(port::Column::Id.is_in(ids))
                .exec(ctx.db())
                .await
                .map_err(internal)?;
        }
    }
    Ok(())
}
