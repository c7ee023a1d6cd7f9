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

async fn scheduler(ctx: &ServiceContext, path: &str) -> Result<Value, Error> {
    let r = peer::call(ctx, As::Service, "placement", Method::GET, path, None, &[]).await?;
    match r.status {
        200 => Ok(r.body),
        s => Err(Error::Unavailable(format!(
            "the scheduler answered {s} to {path}"
        ))),
    }
}

/// Every node the scheduler knows.
pub async fn nodes(ctx: &ServiceContext) -> Result<Vec<Value>, Error> {
    let b = scheduler(ctx, "/scheduler/v1/nodes").await?;
    Ok(b["nodes"].as_array().cloned().unwrap_or_default())
}

/// Every site, by uuid: its name (the availability zone).
pub async fn site_names(ctx: &ServiceContext) -> Result<Vec<(String, String)>, Error> {
    let b = scheduler(ctx, "/scheduler/v1/sites").await?;
    Ok(b["sites"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some((
                s["uuid"].as_str()?.to_owned(),
                s["name"].as_str()?.to_owned(),
            ))
        })
        .collect())
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
    let node = nodes(ctx)
        .await?
        .into_iter()
        .find(|n| n["uuid"] == id)
        .ok_or_else(|| Error::Missing {
            kind: "ComputeHostNotFound",
            message: format!("Hypervisor with ID {id} could not be found."),
        })?;
    with_use(ctx, node, true).await
}
