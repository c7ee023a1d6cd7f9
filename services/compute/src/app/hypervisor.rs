//! Hypervisors (`os-hypervisors`, admins): the edge nodes the scheduler
//! knows, each with its capacity and use from the scheduler's inventories
//! and usages and the servers placed on it. A node's id is its uuid (as
//! Nova's from 2.53).

use serde_json::Value;
use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;
use virga_service::peer::{self, As, Method};

use super::site::{nodes, scheduler};
use crate::db::instance;

/// One node and what it holds.
pub struct Hypervisor {
    /// The scheduler's view of the node (`uuid`, `hostname`, `site`,
    /// `state`, `disabled`, `last_seen`, `facts`).
    pub node: Value,
    /// Class -> inventory (`total`, `reserved`, `allocation_ratio`).
    pub inventories: Value,
    /// Class -> amount used.
    pub usages: Value,
    pub running_vms: usize,
}

fn enforce(auth: &Auth, rule: &str) -> Result<(), Error> {
    auth.enforce(
        &format!("os_compute_api:os-hypervisors:{rule}"),
        &Target::new(),
    )
}

async fn with_use(ctx: &ServiceContext, node: Value, detail: bool) -> Result<Hypervisor, Error> {
    let uuid = node["uuid"].as_str().unwrap_or_default().to_owned();
    let (inventories, usages) = if detail {
        let inv = scheduler(ctx, &format!("/resource_providers/{uuid}/inventories")).await?;
        let used = scheduler(ctx, &format!("/resource_providers/{uuid}/usages")).await?;
        (inv["inventories"].clone(), used["usages"].clone())
    } else {
        (Value::Null, Value::Null)
    };
    let running_vms = if detail {
        instance::on_node(ctx.db(), &uuid).await?.len()
    } else {
        0
    };
    Ok(Hypervisor {
        node,
        inventories,
        usages,
        running_vms,
    })
}

/// Every node; with `detail` its capacity and use.
pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    detail: bool,
) -> Result<Vec<Hypervisor>, Error> {
    enforce(auth, if detail { "list-detail" } else { "list" })?;
    let mut out = Vec::new();
    for n in nodes(ctx).await? {
        out.push(with_use(ctx, n, detail).await?);
    }
    Ok(out)
}

pub async fn show(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Hypervisor, Error> {
    enforce(auth, "show")?;
    let path = format!("/scheduler/v1/nodes/{id}");
    let r = peer::call(ctx, As::Service, "placement", Method::GET, &path, None, &[]).await?;
    let node = match r.status {
        200 => r.body["node"].clone(),
        400 | 404 => {
            return Err(Error::Missing {
                kind: "ComputeHostNotFound",
                message: format!("Hypervisor with ID {id} could not be found."),
            });
        }
        s => {
            return Err(Error::Unavailable(format!(
                "the scheduler answered {s} to {path}"
            )));
        }
    };
    with_use(ctx, node, true).await
}
