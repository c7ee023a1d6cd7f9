//! Floating IPs: an address taken from an external network (by a port
//! there that the floating IP owns), associated with a fixed IPv4 address
//! of a tenant port when a router of the project joins the port's subnet
//! to that external network.

use std::net::IpAddr;

use virga_common::Error;
use virga_db::sea_orm::{ColumnTrait, Condition, ConnectionTrait};
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::fixed_ips::IpRequest;
use super::listing::{self, ListQuery};
use crate::db::floating_ip::{self, Column, Entity, Model};
use crate::db::listing::Kind;
use crate::db::router::{self, INTERFACE};
use crate::db::{ip_allocation, now, port};

pub const KIND: &str = "Floating IP";
pub const OWNER: &str = "network:floatingip";

#[derive(Debug, Clone, Default)]
pub struct NewFloatingIp {
    pub project_id: Option<String>,
    pub floating_network_id: String,
    pub floating_ip_address: Option<String>,
    pub subnet_id: Option<String>,
    pub port_id: Option<String>,
    pub fixed_ip_address: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, Default)]
pub struct FloatingIpChanges {
    /// `Some(None)`: disassociate.
    pub port_id: Option<Option<String>>,
    pub fixed_ip_address: Option<String>,
    pub description: Option<String>,
}

fn bad(msg: String) -> Error {
    Error::BadRequest(format!("Bad floatingip request: {msg}."))
}

fn target(project: &str) -> Target {
    Target::new().with("project_id", project.to_owned())
}

pub async fn visible(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Model, Error> {
    let m = floating_ip::find(ctx.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    auth.enforce_visible("network:get_floatingip", &target(&m.project_id), KIND, id)?;
    Ok(m)
}

/// Whether floating IPs are routed through the router.
pub async fn routed_by(db: &impl ConnectionTrait, router_id: &str) -> Result<bool, Error> {
    Ok(floating_ip::count_on_router(db, router_id).await? > 0)
}

/// Whether floating IPs routed through the router reach fixed addresses
/// in these subnets (so that interface must stay).
pub async fn through_interface(
    db: &impl ConnectionTrait,
    router_id: &str,
    subnets: &[String],
) -> Result<bool, Error> {
    for f in floating_ip::of_router(db, router_id).await? {
        if let (Some(p), Some(fixed)) = (&f.port_id, &f.fixed_ip_address) {
            let held = ip_allocation::of_ports(db, std::slice::from_ref(p)).await?;
            if held
                .values()
                .flatten()
                .any(|a| &a.ip_address == fixed && subnets.contains(&a.subnet_id))
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The association of `fip` with a port's fixed IPv4 address: which
/// address, and which router of the project routes the port's subnet to
/// the floating IP's network.
struct Association {
    port_id: String,
    fixed: String,
    router_id: String,
}

async fn associate(
    db: &impl ConnectionTrait,
    fip: &Model,
    port: &crate::db::port::Model,
    fixed: Option<&str>,
) -> Result<Association, Error> {
    let held = ip_allocation::of_ports(db, std::slice::from_ref(&port.id))
        .await?
        .remove(&port.id)
        .unwrap_or_default();
    let v4: Vec<&ip_allocation::Model> = held
        .iter()
        .filter(|a| a.ip_address.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv4()))
        .collect();
    let chosen = match fixed {
        Some(f) => v4
            .iter()
            .find(|a| a.ip_address == f)
            .ok_or_else(|| bad(format!("Port {} does not have fixed ip {f}", port.id)))?,
        None if v4.len() == 1 => v4[0],
        None if v4.is_empty() => {
            return Err(bad(format!(
                "Port {} does not have any IPv4 address to associate with a floating IP",
                port.id
            )));
        }
        None => {
            return Err(bad(format!(
                "Port {} has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a floating IP",
                port.id
            )));
        }
    };
    // A router of the project with its gateway on the floating IP's
    // network and an interface on the fixed address's subnet.
    let mut router_id = None;
    let interfaces =
        ip_allocation::ports_matching(db, std::slice::from_ref(&chosen.subnet_id), &[]).await?;
    for p in interfaces {
        let Some(rp) = router::of_port(db, &p).await? else {
            continue;
        };
        if rp.port_type != INTERFACE {
            continue;
        }
        if let Some(r) = router::find(db, &rp.router_id).await?
            && r.gateway_network_id.as_deref() == Some(fip.floating_network_id.as_str())
        {
            router_id = Some(r.id);
            break;
        }
    }
    let Some(router_id) = router_id else {
        return Err(Error::NotFound {
            kind: "External network",
            id: format!(
                "{} reachable from subnet {} (to associate port {} with a floating IP)",
                fip.floating_network_id, chosen.subnet_id, port.id
            ),
        });
    };
    if let Some(other) =
        floating_ip::mapped(db, &fip.floating_network_id, &port.id, &chosen.ip_address).await?
        && other.id != fip.id
    {
        return Err(super::coded(
            "FloatingIPPortAlreadyAssociated",
            format!(
                "Cannot associate floating IP {} ({}) with port {} using fixed IP {}, as that fixed IP already has a floating IP on external network {}.",
                fip.floating_ip_address,
                fip.id,
                port.id,
                chosen.ip_address,
                fip.floating_network_id
            ),
        ));
    }
    Ok(Association {
        port_id: port.id.clone(),
        fixed: chosen.ip_address.clone(),
        router_id,
    })
}

/// The port a floating IP is to be associated with: one the caller sees,
/// of the floating IP's project.
async fn tenant_port(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
    port_id: &str,
) -> Result<crate::db::port::Model, Error> {
    let (p, _) = super::port::visible(ctx, auth, port_id).await?;
    if p.project_id != project {
        return Err(Error::not_found("Port", port_id));
    }
    Ok(p)
}

pub async fn create(ctx: &ServiceContext, auth: &Auth, new: NewFloatingIp) -> Result<Model, Error> {
    let project = super::project_of(auth, new.project_id.as_deref())?;
    let t = target(&project);
    auth.enforce("network:create_floatingip", &t)?;
    if new.floating_ip_address.is_some() {
        auth.enforce("network:create_floatingip:floating_ip_address", &t)?;
    }
    let net = super::network::visible(ctx, auth, &new.floating_network_id).await?;
    if !net.external {
        return Err(bad(format!(
            "Network {} is not a valid external network",
            net.id
        )));
    }
    let tenant = match &new.port_id {
        Some(p) => Some(tenant_port(ctx, auth, &project, p).await?),
        None => None,
    };
    let id = uuid::Uuid::new_v4().to_string();
    let request = if new.floating_ip_address.is_some() || new.subnet_id.is_some() {
        Some(vec![IpRequest {
            subnet_id: new.subnet_id.clone(),
            ip_address: new.floating_ip_address.clone(),
        }])
    } else {
        None
    };
    let quota = super::quota::Limits::read(ctx, &project).await?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    quota.check(&txn, "floatingip", 1).await?;
    let ext =
        super::port::create_owned(&txn, ctx, &net.id, "", OWNER, &id, request.as_deref()).await?;
    let Some((_, address)) = ext
        .fixed_ips
        .iter()
        .find(|(_, a)| a.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv4()))
        .cloned()
    else {
        return Err(super::coded(
            "ExternalIpAddressExhausted",
            format!(
                "Unable to find any IP address on external network {}.",
                net.id
            ),
        ));
    };
    let at = now();
    let mut m = Model {
        id,
        project_id: project,
        description: new.description,
        created_at: at,
        updated_at: at,
        revision_number: 0,
        floating_network_id: net.id.clone(),
        floating_port_id: ext.model.id.clone(),
        floating_ip_address: address,
        port_id: None,
        fixed_ip_address: None,
        router_id: None,
        status: "DOWN".into(),
    };
    if let Some(p) = &tenant {
        let a = associate(&txn, &m, p, new.fixed_ip_address.as_deref()).await?;
        m.port_id = Some(a.port_id);
        m.fixed_ip_address = Some(a.fixed);
        m.router_id = Some(a.router_id);
    }
    let m = floating_ip::insert(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(floating_ip = %m.id, address = %m.floating_ip_address, port = ?m.port_id, "floating IP created");
    Ok(m)
}

pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    ch: Result<FloatingIpChanges, Error>,
) -> Result<Model, Error> {
    let mut m = visible(ctx, auth, id).await?;
    // Only now its body's errors: another project's resource is 404.
    let ch = ch?;
    auth.enforce("network:update_floatingip", &target(&m.project_id))?;
    let tenant = match &ch.port_id {
        Some(Some(p)) => Some(tenant_port(ctx, auth, &m.project_id, p).await?),
        _ => None,
    };
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    match (&ch.port_id, &tenant) {
        (Some(_), Some(p)) => {
            let a = associate(&txn, &m, p, ch.fixed_ip_address.as_deref()).await?;
            m.port_id = Some(a.port_id);
            m.fixed_ip_address = Some(a.fixed);
            m.router_id = Some(a.router_id);
        }
        (Some(None), _) => {
            m.port_id = None;
            m.fixed_ip_address = None;
            m.router_id = None;
            m.status = "DOWN".into();
        }
        _ => {}
    }
    m.description = ch.description.unwrap_or(m.description);
    m.revision_number += 1;
    m.updated_at = now();
    let m = floating_ip::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    Ok(m)
}

/// Deletes the floating IP; its external address is free at once.
pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    let m = visible(ctx, auth, id).await?;
    auth.enforce("network:delete_floatingip", &target(&m.project_id))?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    floating_ip::delete(&txn, id).await?;
    port::delete(&txn, &m.floating_port_id).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(floating_ip = %id, "floating IP deleted");
    Ok(())
}

fn columns(attr: &str) -> Option<(Column, Kind)> {
    Some(match attr {
        "id" => (Column::Id, Kind::Text),
        "description" => (Column::Description, Kind::Text),
        "project_id" | "tenant_id" => (Column::ProjectId, Kind::Text),
        "floating_network_id" => (Column::FloatingNetworkId, Kind::Text),
        "floating_ip_address" => (Column::FloatingIpAddress, Kind::Text),
        "port_id" => (Column::PortId, Kind::NullableText),
        "fixed_ip_address" => (Column::FixedIpAddress, Kind::NullableText),
        "router_id" => (Column::RouterId, Kind::NullableText),
        "status" => (Column::Status, Kind::Text),
        "revision_number" => (Column::RevisionNumber, Kind::Int),
        _ => return None,
    })
}

pub const FILTERS: &[&str] = &[
    "id",
    "description",
    "project_id",
    "tenant_id",
    "floating_network_id",
    "floating_ip_address",
    "port_id",
    "fixed_ip_address",
    "router_id",
    "status",
    "revision_number",
];
pub const SORT_KEYS: &[&str] = &[
    "id",
    "project_id",
    "tenant_id",
    "floating_network_id",
    "floating_ip_address",
    "port_id",
    "fixed_ip_address",
    "router_id",
    "status",
];

pub async fn list(ctx: &ServiceContext, auth: &Auth, q: &ListQuery) -> Result<Vec<Model>, Error> {
    let scope = if super::network::is_admin(auth) {
        Condition::all()
    } else {
        let p = auth.claims().project_id().unwrap_or_default().to_owned();
        Condition::all().add(Column::ProjectId.eq(p))
    };
    let marker = match &q.marker {
        Some(id) => visible(ctx, auth, id).await.ok(),
        None => None,
    };
    let spec = listing::spec::<Entity>(q, scope, columns, marker)?;
    crate::db::listing::list(ctx.db(), Column::Id, spec).await
}
