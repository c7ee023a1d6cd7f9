//! Compute services (`os-services`, admins): each edge node is a
//! `nova-compute` service in its site's zone, up while it heartbeats;
//! disabling one takes the node out of scheduling (the scheduler's node
//! `disabled`), as Nova's does; forcing one down (microversion 2.11)
//! marks the node down whatever its heartbeats say, so its servers can be
//! evacuated at once.

use serde_json::{Value, json};
use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;
use virga_service::peer::{self, As, Method};

use super::site::{names as site_names, nodes};

/// Nova's name for a node's service.
pub const COMPUTE: &str = "nova-compute";

/// A node as a service: the node and its zone (its site's name).
pub struct Service {
    pub node: Value,
    pub zone: String,
}

fn enforce(auth: &Auth, rule: &str) -> Result<(), Error> {
    auth.enforce(
        &format!("os_compute_api:os-services:{rule}"),
        &Target::new(),
    )
}

/// Every node, optionally only those of `host` or `binary`.
pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    host: Option<&str>,
    binary: Option<&str>,
) -> Result<Vec<Service>, Error> {
    enforce(auth, "list")?;
    if binary.is_some_and(|b| b != COMPUTE) {
        return Ok(vec![]);
    }
    Ok(nodes_as_services(ctx)
        .await?
        .into_iter()
        .filter(|s| host.is_none_or(|h| s.node["hostname"] == h))
        .collect())
}

/// Every node as a service in its site's zone (no policy: callers check).
pub async fn nodes_as_services(ctx: &ServiceContext) -> Result<Vec<Service>, Error> {
    let sites = site_names(ctx).await?;
    Ok(nodes(ctx)
        .await?
        .into_iter()
        .map(|node| {
            let zone = sites
                .iter()
                .find(|(id, _)| node["site"] == id.as_str())
                .map_or_else(String::new, |(_, name)| name.clone());
            Service { node, zone }
        })
        .collect())
}

/// What an admin sets on a service: the scheduler's node flag of that name.
#[derive(Debug, Clone, Copy)]
pub enum Flag {
    /// Out of scheduling.
    Disabled(bool),
    /// Down whatever the heartbeats say.
    ForcedDown(bool),
}

/// Sets `flag` on the `nova-compute` service of `host`.
pub async fn set(
    ctx: &ServiceContext,
    auth: &Auth,
    host: &str,
    binary: &str,
    flag: Flag,
) -> Result<(), Error> {
    enforce(auth, "update")?;
    let missing = || Error::Missing {
        kind: "HostBinaryNotFound",
        message: format!("Could not find binary {binary} on host {host}."),
    };
    if binary != COMPUTE {
        return Err(missing());
    }
    let node = nodes(ctx)
        .await?
        .into_iter()
        .find(|n| n["hostname"] == host)
        .ok_or_else(missing)?;
    let uuid = node["uuid"].as_str().unwrap_or_default();
    let (key, on) = match flag {
        Flag::Disabled(on) => ("disabled", on),
        Flag::ForcedDown(on) => ("forced_down", on),
    };
    let r = peer::call(
        ctx,
        As::Service,
        "placement",
        Method::PUT,
        &format!("/scheduler/v1/nodes/{uuid}/{key}"),
        Some(&json!({ key: on })),
        &[],
    )
    .await?;
    match r.status {
        200 => Ok(()),
        404 => Err(missing()),
        s => Err(Error::Unavailable(format!(
            "the scheduler answered {s} setting a node's {key}"
        ))),
    }
}

/// Nodes' `host_status`, when the caller may see them at `at` (from 2.16,
/// admins by default).
pub async fn host_statuses_for(
    ctx: &ServiceContext,
    auth: &Auth,
    at: super::versions::Microversion,
) -> Result<Option<std::collections::BTreeMap<String, &'static str>>, Error> {
    if !at.at_least(16) || !auth.allows("os_compute_api:servers:show:host_status", &Target::new()) {
        return Ok(None);
    }
    Ok(Some(host_statuses(ctx).await?))
}

/// Nova's `host_status` (microversion 2.16) of each node, by uuid:
/// `DOWN` when forced down, `MAINTENANCE` when disabled, `UP` while it
/// heartbeats, `UNKNOWN` before its first, else `DOWN`. A server on no
/// node shows `""`; on a node the scheduler no longer knows, `UNKNOWN`.
async fn host_statuses(
    ctx: &ServiceContext,
) -> Result<std::collections::BTreeMap<String, &'static str>, Error> {
    Ok(nodes(ctx)
        .await?
        .into_iter()
        .filter_map(|n| {
            let status = if n["forced_down"] == true {
                "DOWN"
            } else if n["disabled"] == true {
                "MAINTENANCE"
            } else if n["state"] == "up" {
                "UP"
            } else if n["last_seen"].is_null() {
                "UNKNOWN"
            } else {
                "DOWN"
            };
            Some((n["uuid"].as_str()?.to_owned(), status))
        })
        .collect())
}
