//! Nodes: an edge node is a child provider of its site, with its devices
//! (a GPU, an FPGA) as its children. Registration is a desired state,
//! idempotent: the agent (or an operator) says what the node has, and
//! the provider tree, inventories and traits are made to match. A
//! heartbeat refreshes load and image-cache contents; a node not heard
//! from within `scheduler.node_stale_secs` is down and not scheduled.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;
use virga_common::Error;
use virga_service::ServiceContext;

use super::inventory::{self, Inventory};
use super::{resource_provider, traits};
use crate::db::{node as db, now, provider};

pub use crate::db::node::Model;

/// CPU architectures and the standard trait each implies.
pub const ARCHES: [(&str, &str); 2] =
    [("x86_64", "HW_ARCH_X86_64"), ("aarch64", "HW_ARCH_AARCH64")];

/// What a node has, as its agent detected it.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub site: String,
    pub hostname: String,
    pub kind: String,
    pub arch: String,
    pub labels: BTreeMap<String, String>,
    pub inventories: BTreeMap<String, Inventory>,
    pub traits: BTreeSet<String>,
    pub devices: Vec<Device>,
    /// What else the agent found (`virga_protocol::scheduler::HostFacts`), as JSON.
    pub facts: Value,
}

/// An accelerator or other device, a child provider of its node.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub name: String,
    pub inventories: BTreeMap<String, Inventory>,
    pub traits: BTreeSet<String>,
}

/// What a heartbeat carries.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat {
    pub load: Value,
    pub images: Vec<String>,
    pub layers: Vec<String>,
}

/// `up`, `down` (silent too long, or forced down) or `disabled`.
pub fn state(n: &Model, stale_secs: u64, at: DateTime<Utc>) -> &'static str {
    let fresh = n
        .last_seen
        .is_some_and(|t| (at - t).num_milliseconds() <= stale_secs as i64 * 1000);
    if n.forced_down {
        return "down";
    }
    match (n.disabled, fresh) {
        (true, _) => "disabled",
        (false, true) => "up",
        (false, false) => "down",
    }
}

/// A device's provider uuid: the same for the same node and name, so a
/// repeated registration finds it again.
pub fn device_uuid(node: &str, name: &str) -> String {
    let ns = uuid::Uuid::parse_str(node).unwrap_or(uuid::Uuid::nil());
    uuid::Uuid::new_v5(&ns, name.as_bytes()).to_string()
}

/// Makes `uuid`'s provider, child of `parent`, exist with `name`.
/// Whether a provider other than `uuid` is named `name`.
async fn name_taken(ctx: &ServiceContext, uuid: &str, name: &str) -> Result<bool, Error> {
    let f = provider::Filter {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    Ok(provider::list(ctx.db(), &f)
        .await?
        .iter()
        .any(|p| p.uuid != uuid))
}

/// The names a node's provider may have, in order of preference: `name`,
/// then (Placement's names are unique; edge boxes often share a host name)
/// `name` with the first part of the uuid, then with all of it.
fn names(name: &str, uuid: &str) -> [String; 3] {
    [
        name.to_owned(),
        format!("{name}-{}", uuid.get(..8).unwrap_or(uuid)),
        format!("{name}-{uuid}"),
    ]
}

/// The first of [`names`] no other provider has.
async fn free_name(ctx: &ServiceContext, uuid: &str, name: &str) -> Result<String, Error> {
    let [first, short, full] = names(name, uuid);
    for n in [first, short] {
        if !name_taken(ctx, uuid, &n).await? {
            return Ok(n);
        }
    }
    Ok(full)
}

async fn ensure_provider(
    ctx: &ServiceContext,
    uuid: &str,
    name: &str,
    parent: &str,
) -> Result<(), Error> {
    match provider::find(ctx.db(), uuid).await? {
        None => {
            resource_provider::create(
                ctx,
                free_name(ctx, uuid, name).await?,
                Some(uuid.to_owned()),
                Some(parent.to_owned()),
            )
            .await?;
        }
        Some(p) if p.parent_uuid.as_deref() != Some(parent) => {
            return Err(Error::Conflict(format!(
                "{name} ({uuid}) is registered under {}, not {parent}; deregister it first.",
                p.parent_uuid.unwrap_or_else(|| "no parent".into())
            )));
        }
        // A re-registration keeps its name, a fallback one too.
        Some(p) if names(name, uuid).contains(&p.name) => {}
        Some(_) => {
            let name = free_name(ctx, uuid, name).await?;
            resource_provider::update(ctx, uuid, &name, None, false).await?;
        }
    }
    Ok(())
}

/// Sets a provider's inventories and traits to exactly these.
async fn converge(
    ctx: &ServiceContext,
    uuid: &str,
    invs: &BTreeMap<String, Inventory>,
    want: &BTreeSet<String>,
) -> Result<(), Error> {
    let (current, _) = inventory::list(ctx, uuid).await?;
    if current != *invs {
        let new = invs.clone();
        inventory::update(ctx, uuid, None, move |all| {
            *all = new;
            Ok(())
        })
        .await?;
    }
    let (have, _) = traits::of_provider(ctx, uuid).await?;
    let have: BTreeSet<String> = have.into_iter().collect();
    if have != *want {
        traits::set_for_provider(ctx, uuid, None, want.iter().cloned().collect()).await?;
    }
    Ok(())
}

/// Registers a node (again): its provider under its site, inventories,
/// traits (its arch's included), devices; removes devices it no longer
/// reports.
pub async fn register(ctx: &ServiceContext, uuid: &str, reg: Registration) -> Result<Model, Error> {
    if crate::db::site::find(ctx.db(), &reg.site).await?.is_none() {
        return Err(Error::BadRequest(format!("No such site: {}", reg.site)));
    }
    ensure_provider(ctx, uuid, &reg.hostname, &reg.site).await?;
    let mut want = reg.traits.clone();
    if let Some((_, t)) = ARCHES.iter().find(|(a, _)| *a == reg.arch) {
        want.insert(t.to_string());
    }
    converge(ctx, uuid, &reg.inventories, &want).await?;
    let mut kept = BTreeSet::new();
    for d in &reg.devices {
        let du = device_uuid(uuid, &d.name);
        ensure_provider(ctx, &du, &format!("{}/{}", reg.hostname, d.name), uuid).await?;
        converge(ctx, &du, &d.inventories, &d.traits).await?;
        kept.insert(du);
    }
    let filter = provider::Filter {
        root: Some(reg.site.clone()),
        ..provider::Filter::default()
    };
    for gone in provider::list(ctx.db(), &filter).await? {
        if gone.parent_uuid.as_deref() == Some(uuid) && !kept.contains(&gone.uuid) {
            resource_provider::delete(ctx, &gone.uuid).await?;
        }
    }
    let at = now();
    let old = db::find(ctx.db(), uuid).await?;
    db::upsert(
        ctx.db(),
        Model {
            uuid: uuid.to_owned(),
            site_uuid: reg.site,
            hostname: reg.hostname,
            kind: reg.kind,
            arch: reg.arch,
            labels: serde_json::to_string(&reg.labels).map_err(Error::internal)?,
            facts: if reg.facts.is_null() {
                old.as_ref().map_or("{}".into(), |o| o.facts.clone())
            } else {
                reg.facts.to_string()
            },
            load: old.as_ref().map_or("{}".into(), |o| o.load.clone()),
            images: old.as_ref().map_or("[]".into(), |o| o.images.clone()),
            layers: old.as_ref().map_or("[]".into(), |o| o.layers.clone()),
            disabled: old.as_ref().is_some_and(|o| o.disabled),
            forced_down: old.as_ref().is_some_and(|o| o.forced_down),
            down_reported: old.as_ref().is_some_and(|o| o.down_reported),
            last_seen: Some(at),
            created_at: at,
            updated_at: at,
        },
    )
    .await?;
    tracing::info!(node = %uuid, "node registered");
    crate::app::select::cache::changed(ctx);
    super::node_watch::heard(ctx, uuid).await?;
    get(ctx, uuid).await
}

pub async fn get(ctx: &ServiceContext, uuid: &str) -> Result<Model, Error> {
    db::find(ctx.db(), uuid)
        .await?
        .ok_or_else(|| Error::NotFound {
            kind: "node",
            id: uuid.to_owned(),
        })
}

pub async fn list(ctx: &ServiceContext, site: Option<&str>) -> Result<Vec<Model>, Error> {
    db::list(ctx.db(), site).await
}

pub async fn heartbeat(ctx: &ServiceContext, uuid: &str, hb: Heartbeat) -> Result<Model, Error> {
    let ok = db::heartbeat(
        ctx.db(),
        uuid,
        &hb.load.to_string(),
        &serde_json::to_string(&hb.images).map_err(Error::internal)?,
        &serde_json::to_string(&hb.layers).map_err(Error::internal)?,
    )
    .await?;
    if !ok {
        return Err(Error::NotFound {
            kind: "node",
            id: uuid.to_owned(),
        });
    }
    super::node_watch::heard(ctx, uuid).await?;
    let n = get(ctx, uuid).await?;
    super::select::cache::HostCache::of(ctx).apply_node(n.clone());
    Ok(n)
}

/// Sets an operator's flag: `disabled` (out of scheduling) or
/// `forced_down` (down, whatever its heartbeats say).
pub async fn set_flag(
    ctx: &ServiceContext,
    uuid: &str,
    flag: db::Flag,
    on: bool,
) -> Result<Model, Error> {
    get(ctx, uuid).await?;
    db::set_flag(ctx.db(), uuid, flag, on).await?;
    crate::app::select::cache::changed(ctx);
    get(ctx, uuid).await
}

/// Deregisters a node: its devices, then it (409 while anything holds
/// allocations on them).
pub async fn delete(ctx: &ServiceContext, uuid: &str) -> Result<(), Error> {
    let n = get(ctx, uuid).await?;
    let filter = provider::Filter {
        root: Some(n.site_uuid.clone()),
        ..provider::Filter::default()
    };
    for child in provider::list(ctx.db(), &filter).await? {
        if child.parent_uuid.as_deref() == Some(uuid) {
            resource_provider::delete(ctx, &child.uuid).await?;
        }
    }
    resource_provider::delete(ctx, uuid).await
}
