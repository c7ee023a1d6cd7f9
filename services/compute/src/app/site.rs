//! Edge sites and nodes as the scheduler knows them, read over its REST
//! API as compute's service user: what hypervisors, services, zones and a
//! create's availability zone are made of.

use serde_json::Value;
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::peer::{self, As, Method};

pub async fn scheduler(ctx: &ServiceContext, path: &str) -> Result<Value, Error> {
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
pub async fn names(ctx: &ServiceContext) -> Result<Vec<(String, String)>, Error> {
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

/// The uuid of the site named (by name or uuid); `None` when none is.
pub async fn find(ctx: &ServiceContext, named: &str) -> Result<Option<String>, Error> {
    Ok(names(ctx)
        .await?
        .into_iter()
        .find(|(uuid, name)| name == named || uuid == named)
        .map(|(uuid, _)| uuid))
}
