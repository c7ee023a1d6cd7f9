//! Networks: who may see and change which (the policy, with Neutron's
//! rule that shared and external networks are visible to every project),
//! creation with a segment (a VXLAN id given out, or a provider segment
//! an admin names), update, and deletion (refused while ports remain).

use virga_common::Error;
use virga_db::sea_orm::{ColumnTrait, Condition};
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::listing::{self, ListQuery};
use crate::db::listing::Kind;
use crate::db::network::{self, Column, Entity, Model};
use crate::db::{now, port, subnet};

/// A network with its subnets' ids: what the API shows.
#[derive(Debug, Clone)]
pub struct NetworkDoc {
    pub model: Model,
    pub subnets: Vec<String>,
}

/// The provider attributes a request named (admin only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Segment {
    pub network_type: Option<String>,
    pub physical_network: Option<String>,
    pub segmentation_id: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct NewNetwork {
    pub project_id: Option<String>,
    pub name: String,
    pub description: String,
    pub admin_state_up: bool,
    pub shared: bool,
    pub external: bool,
    pub mtu: Option<i32>,
    pub port_security_enabled: bool,
    pub segment: Option<Segment>,
}

/// What an update may change; `None` leaves it.
#[derive(Debug, Clone, Default)]
pub struct NetworkChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub admin_state_up: Option<bool>,
    pub shared: Option<bool>,
    pub external: Option<bool>,
    pub mtu: Option<i32>,
    pub port_security_enabled: Option<bool>,
}

const KIND: &str = "Network";

pub fn is_admin(auth: &Auth) -> bool {
    auth.allows("context_is_admin", &Target::new())
}

/// Admins, and services (compute finding a server's ports): their
/// listings are not limited to their own project, as Neutron's `get_*`
/// rules let the `service` role read every project's.
pub fn sees_every_project(auth: &Auth) -> bool {
    is_admin(auth) || auth.allows("service", &Target::new())
}

pub fn target(m: &Model) -> Target {
    let b = |v: bool| if v { "True" } else { "False" };
    Target::new()
        .with("project_id", m.project_id.clone())
        .with("shared", b(m.shared))
        .with("external", b(m.external))
}

/// The network, if the caller may see it; otherwise 404.
pub async fn visible(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Model, Error> {
    let m = network::find(ctx.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    auth.enforce_visible("network:get_network", &target(&m), KIND, id)?;
    Ok(m)
}

pub async fn get(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<NetworkDoc, Error> {
    let m = visible(ctx, auth, id).await?;
    Ok(docs(ctx, vec![m]).await?.remove(0))
}

async fn docs(ctx: &ServiceContext, rows: Vec<Model>) -> Result<Vec<NetworkDoc>, Error> {
    let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
    let subnets = subnet::of_networks(ctx.db(), &ids).await?;
    Ok(rows
        .into_iter()
        .map(|model| NetworkDoc {
            subnets: subnets
                .iter()
                .filter(|s| s.network_id == model.id)
                .map(|s| s.id.clone())
                .collect(),
            model,
        })
        .collect())
}

fn columns(attr: &str) -> Option<(Column, Kind)> {
    Some(match attr {
        "id" => (Column::Id, Kind::Text),
        "name" => (Column::Name, Kind::Text),
        "description" => (Column::Description, Kind::Text),
        "project_id" | "tenant_id" => (Column::ProjectId, Kind::Text),
        "status" => (Column::Status, Kind::Text),
        "admin_state_up" => (Column::AdminStateUp, Kind::Bool),
        "shared" => (Column::Shared, Kind::Bool),
        "router:external" => (Column::External, Kind::Bool),
        "mtu" => (Column::Mtu, Kind::Int),
        "port_security_enabled" => (Column::PortSecurityEnabled, Kind::Bool),
        "provider:network_type" => (Column::NetworkType, Kind::Text),
        "provider:physical_network" => (Column::PhysicalNetwork, Kind::Text),
        "provider:segmentation_id" => (Column::SegmentationId, Kind::Int),
        "created_at" => (Column::CreatedAt, Kind::Text),
        "updated_at" => (Column::UpdatedAt, Kind::Text),
        "revision_number" => (Column::RevisionNumber, Kind::Int),
        _ => return None,
    })
}

pub const FILTERS: &[&str] = &[
    "id",
    "name",
    "description",
    "project_id",
    "tenant_id",
    "status",
    "admin_state_up",
    "shared",
    "router:external",
    "mtu",
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
    "revision_number",
];

pub const SORT_KEYS: &[&str] = &[
    "id",
    "name",
    "project_id",
    "tenant_id",
    "status",
    "admin_state_up",
    "mtu",
];

/// What the caller may list: an admin everything; a project its own
/// networks, shared ones and external ones.
fn scope(auth: &Auth) -> Condition {
    if is_admin(auth) {
        return Condition::all();
    }
    let mut c = Condition::any()
        .add(Column::Shared.eq(true))
        .add(Column::External.eq(true));
    if let Some(p) = auth.claims().project_id() {
        c = c.add(Column::ProjectId.eq(p));
    }
    c
}

/// The ids of the networks the caller sees.
pub async fn visible_ids(ctx: &ServiceContext, auth: &Auth) -> Result<Vec<String>, Error> {
    network::ids_where(ctx.db(), scope(auth)).await
}

pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    q: &ListQuery,
) -> Result<Vec<NetworkDoc>, Error> {
    // Only admins see (so may filter on) provider attributes.
    if !is_admin(auth)
        && let Some((attr, _)) = q.filters.iter().find(|(a, _)| a.starts_with("provider:"))
    {
        return Err(Error::BadRequest(format!(
            "['{attr}'] is invalid attribute for filtering"
        )));
    }
    // An unknown marker is ignored, as Neutron does for networks.
    let marker = match &q.marker {
        Some(id) => visible(ctx, auth, id).await.ok(),
        None => None,
    };
    let spec = listing::spec::<Entity>(q, scope(auth), columns, marker)?;
    let rows = crate::db::listing::list(ctx.db(), Column::Id, spec).await?;
    docs(ctx, rows).await
}

pub async fn create(
    ctx: &ServiceContext,
    auth: &Auth,
    new: NewNetwork,
) -> Result<NetworkDoc, Error> {
    let project = super::project_of(auth, new.project_id.as_deref())?;
    let t = Target::new().with("project_id", project.clone());
    auth.enforce("network:create_network", &t)?;
    if new.shared {
        auth.enforce("network:create_network:shared", &t)?;
    }
    if new.external {
        auth.enforce("network:create_network:router:external", &t)?;
    }
    if new.segment.is_some() {
        auth.enforce("network:create_network:provider", &t)?;
    }
    let cfg = &ctx.config().network;
    let seg = super::segment::resolve(cfg, new.segment.as_ref())?;
    // As Neutron does, a project's first network brings its default group.
    super::security_group::ensure_default(ctx, &project).await?;
    let max_mtu = super::segment::mtu(cfg, &seg.network_type);
    let mtu = match new.mtu {
        Some(m) if m > max_mtu => {
            return Err(Error::BadRequest(format!(
                "Requested MTU is too big, maximum is {max_mtu}"
            )));
        }
        Some(m) if m < 68 => {
            return Err(Error::BadRequest(format!(
                "Invalid input for mtu. Reason: '{m}' is too small - must be at least '68'."
            )));
        }
        Some(m) => m,
        None => max_mtu,
    };
    let at = now();
    let mut m = Model {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: project,
        name: new.name,
        description: new.description,
        created_at: at,
        updated_at: at,
        revision_number: 0,
        admin_state_up: new.admin_state_up,
        status: "ACTIVE".into(),
        shared: new.shared,
        external: new.external,
        mtu,
        port_security_enabled: new.port_security_enabled,
        network_type: seg.network_type.clone(),
        physical_network: seg.physical_network.clone(),
        segmentation_id: 0,
    };
    // A given segment is taken or refused; one given out is retried, as
    // another network may have taken it meanwhile.
    let quota = super::quota::Limits::read(ctx, &m.project_id).await?;
    for attempt in 0.. {
        m.segmentation_id = match seg.segmentation_id {
            Some(id) => id,
            None => super::segment::pick_vni(ctx.db(), cfg, attempt).await?,
        };
        let txn = virga_db::begin_write(ctx.db())
            .await
            .map_err(Error::internal)?;
        quota.check(&txn, "network", 1).await?;
        if network::insert(&txn, m.clone()).await? {
            txn.commit().await.map_err(Error::internal)?;
            crate::app::node_plan::kick(ctx);
            break;
        }
        drop(txn);
        if seg.segmentation_id.is_some() || attempt >= 16 {
            return Err(super::segment::in_use(&m));
        }
    }
    tracing::info!(network = %m.id, project = %m.project_id, segment = %format!("{}:{}:{}", m.network_type, m.physical_network, m.segmentation_id), "network created");
    Ok(NetworkDoc {
        model: m,
        subnets: Vec::new(),
    })
}

pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    ch: Result<NetworkChanges, Error>,
) -> Result<NetworkDoc, Error> {
    let mut m = visible(ctx, auth, id).await?;
    // Only now its body's errors: another project's resource is 404.
    let ch = ch?;
    let t = target(&m);
    auth.enforce("network:update_network", &t)?;
    if ch.shared.is_some() {
        auth.enforce("network:update_network:shared", &t)?;
    }
    if ch.external.is_some() {
        auth.enforce("network:update_network:router:external", &t)?;
    }
    let max_mtu = super::segment::mtu(&ctx.config().network, &m.network_type);
    if let Some(mtu) = ch.mtu
        && !(68..=max_mtu).contains(&mtu)
    {
        return Err(Error::BadRequest(format!(
            "Requested MTU is too big, maximum is {max_mtu}"
        )));
    }
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if ch.shared == Some(false) && m.shared && super::port::others_on(&txn, &m).await? {
        return Err(Error::Conflict(format!(
            "Unable to reconfigure sharing settings for network {id}. Multiple tenants are using it."
        )));
    }
    m.name = ch.name.unwrap_or(m.name);
    m.description = ch.description.unwrap_or(m.description);
    m.admin_state_up = ch.admin_state_up.unwrap_or(m.admin_state_up);
    m.shared = ch.shared.unwrap_or(m.shared);
    m.external = ch.external.unwrap_or(m.external);
    m.mtu = ch.mtu.unwrap_or(m.mtu);
    m.port_security_enabled = ch.port_security_enabled.unwrap_or(m.port_security_enabled);
    m.revision_number += 1;
    m.updated_at = now();
    let m = network::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    Ok(docs(ctx, vec![m]).await?.remove(0))
}

/// Deletes the network, its subnets and DHCP ports; 409 while it has
/// other ports.
pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    let m = visible(ctx, auth, id).await?;
    auth.enforce("network:delete_network", &target(&m))?;
    let in_use = |ports: &[String]| {
        let mut reason = "There are one or more ports still in use on the network".to_owned();
        if !ports.is_empty() {
            reason.push_str(&format!(", id for these ports is: {}", ports.join(",")));
        }
        super::coded(
            "NetworkInUse",
            format!("Unable to complete operation on network {id}. {reason}."),
        )
    };
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !network::touch(&txn, id).await? {
        return Err(Error::not_found(KIND, id));
    }
    // DHCP ports are the network's own (Neutron removes them too).
    port::delete_dhcp(&txn, id, None).await?;
    let ports = port::ids_on_network(&txn, id).await?;
    if !ports.is_empty() {
        return Err(in_use(&ports));
    }
    // Without ports there are no addresses, so nothing holds the subnets;
    // a port made meanwhile makes a delete fail on its reference.
    for s in subnet::of_network(&txn, id).await? {
        if !subnet::delete(&txn, &s.id).await? {
            return Err(in_use(&[]));
        }
    }
    if !network::delete(&txn, id).await? {
        return Err(in_use(&[]));
    }
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(network = %id, "network deleted");
    Ok(())
}
