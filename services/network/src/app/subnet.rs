//! Subnets: Neutron's checks on a CIDR, its gateway, allocation pools,
//! DNS servers, host routes and IPv6 modes; creation and deletion under
//! the network's row lock (so two subnets of a network never overlap and
//! none is deleted while an address is handed out from it).

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;
use virga_common::Error;
use virga_db::sea_orm::{ColumnTrait, Condition};
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::ipam::{self, Pool};
use super::listing::{self, ListQuery};

mod checks;
use crate::db::listing::Kind;
use crate::db::subnet::{self, Column, Entity, Model};
use crate::db::{ip_allocation, network, now};
use checks::{Lists, check_dns, check_modes, check_pools, check_routes, gateway, pools_json};

const KIND: &str = "Subnet";

/// The gateway a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gateway {
    /// The first host address.
    Default,
    /// `null`: no gateway.
    None,
    Given(String),
}

#[derive(Debug, Clone)]
pub struct NewSubnet {
    pub project_id: Option<String>,
    pub name: String,
    pub description: String,
    pub network_id: String,
    pub ip_version: i64,
    pub cidr: String,
    pub gateway_ip: Gateway,
    pub allocation_pools: Option<Vec<(String, String)>>,
    pub dns_nameservers: Vec<String>,
    pub host_routes: Vec<(String, String)>,
    pub enable_dhcp: bool,
    pub ipv6_ra_mode: Option<String>,
    pub ipv6_address_mode: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SubnetChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub gateway_ip: Option<Gateway>,
    pub allocation_pools: Option<Vec<(String, String)>>,
    pub dns_nameservers: Option<Vec<String>>,
    pub host_routes: Option<Vec<(String, String)>>,
    pub enable_dhcp: Option<bool>,
}

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::BadRequest(format!("Invalid input for operation: {msg}."))
}

/// A subnet's CIDR, parsed (stored ones always parse).
pub fn net_of(m: &Model) -> Result<IpNet, Error> {
    m.cidr.parse().map_err(Error::internal)
}

/// A subnet's pools as integers.
pub fn pools_of(m: &Model) -> Result<Vec<Pool>, Error> {
    let raw: Vec<Value> = serde_json::from_str(&m.allocation_pools).map_err(Error::internal)?;
    raw.iter()
        .map(|p| {
            let a = |k: &str| -> Result<u128, Error> {
                let s = p[k].as_str().unwrap_or_default();
                Ok(ipam::to_int(s.parse().map_err(Error::internal)?))
            };
            Ok(Pool {
                start: a("start")?,
                end: a("end")?,
            })
        })
        .collect()
}

/// Whether addresses are made from the MAC (SLAAC or DHCPv6-stateless)
/// rather than handed out.
pub fn is_auto_address(m: &Model) -> bool {
    matches!(
        m.ipv6_address_mode.as_deref(),
        Some("slaac" | "dhcpv6-stateless")
    )
}

fn ip(attr: &str, raw: &str) -> Result<IpAddr, Error> {
    raw.parse().map_err(|_| {
        Error::BadRequest(format!(
            "Invalid input for {attr}. Reason: '{raw}' is not a valid IP address."
        ))
    })
}

fn target(net: &network::Model, project: &str) -> Target {
    Target::new()
        .with("project_id", project.to_owned())
        .with("network_project_id", net.project_id.clone())
        .with("network_shared", if net.shared { "True" } else { "False" })
}

/// The subnet, if the caller may see it (it may see its network); else 404.
pub async fn visible(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
) -> Result<(Model, network::Model), Error> {
    let m = subnet::find(ctx.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    let net = network::find(ctx.db(), &m.network_id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    auth.enforce_visible("network:get_subnet", &target(&net, &m.project_id), KIND, id)?;
    Ok((m, net))
}

fn columns(attr: &str) -> Option<(Column, Kind)> {
    Some(match attr {
        "id" => (Column::Id, Kind::Text),
        "name" => (Column::Name, Kind::Text),
        "description" => (Column::Description, Kind::Text),
        "project_id" | "tenant_id" => (Column::ProjectId, Kind::Text),
        "network_id" => (Column::NetworkId, Kind::Text),
        "ip_version" => (Column::IpVersion, Kind::Int),
        "cidr" => (Column::Cidr, Kind::Text),
        "gateway_ip" => (Column::GatewayIp, Kind::NullableText),
        "enable_dhcp" => (Column::EnableDhcp, Kind::Bool),
        "ipv6_ra_mode" => (Column::Ipv6RaMode, Kind::NullableText),
        "ipv6_address_mode" => (Column::Ipv6AddressMode, Kind::NullableText),
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
    "network_id",
    "ip_version",
    "cidr",
    "gateway_ip",
    "enable_dhcp",
    "ipv6_ra_mode",
    "ipv6_address_mode",
    "revision_number",
];

pub const SORT_KEYS: &[&str] = &[
    "id",
    "name",
    "project_id",
    "tenant_id",
    "network_id",
    "ip_version",
    "cidr",
    "gateway_ip",
    "enable_dhcp",
    "ipv6_ra_mode",
    "ipv6_address_mode",
];

pub async fn list(ctx: &ServiceContext, auth: &Auth, q: &ListQuery) -> Result<Vec<Model>, Error> {
    let scope = if super::network::is_admin(auth) {
        Condition::all()
    } else {
        // Subnets of networks the caller sees: its own, shared, external.
        let nets = super::network::visible_ids(ctx, auth).await?;
        Condition::any()
            .add(Column::NetworkId.is_in(nets))
            .add(Column::ProjectId.eq(auth.claims().project_id().unwrap_or_default()))
    };
    // An unknown marker is ignored, as Neutron does for subnets.
    let marker = match &q.marker {
        Some(id) => visible(ctx, auth, id).await.ok().map(|(m, _)| m),
        None => None,
    };
    let spec = listing::spec::<Entity>(q, scope, columns, marker)?;
    crate::db::listing::list(ctx.db(), Column::Id, spec).await
}

pub async fn create(ctx: &ServiceContext, auth: &Auth, new: NewSubnet) -> Result<Model, Error> {
    let net_row = super::network::visible(ctx, auth, &new.network_id).await?;
    let project = super::project_of(auth, new.project_id.as_deref())?;
    auth.enforce("network:create_subnet", &target(&net_row, &project))?;
    if new.ip_version != 4 && new.ip_version != 6 {
        return Err(Error::BadRequest(format!(
            "Invalid input for ip_version. Reason: {} is not in valid_values.",
            new.ip_version
        )));
    }
    let net = ipam::parse_cidr(&new.cidr).map_err(bad)?;
    let v = ipam::version(net.addr());
    if v as i64 != new.ip_version {
        return Err(bad(format!(
            "cidr '{}' does not match the ip_version '{}'",
            new.cidr, new.ip_version
        )));
    }
    let too_long = if v == 4 {
        net.prefix_len() > 30
    } else {
        net.prefix_len() > 126
    };
    if new.enable_dhcp && too_long {
        return Err(bad(
            "Subnet has a prefix length that is incompatible with DHCP service enabled",
        ));
    }
    check_modes(&new, &net)?;
    let gw = gateway(&net, &new.gateway_ip)?;
    let pools = match &new.allocation_pools {
        Some(raw) => check_pools(&net, raw, gw)?,
        None => ipam::default_pools(&net, gw),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let lists = Lists {
        pools: pools_json(&pools, v),
        dns: check_dns(ctx, "new subnet", &new.dns_nameservers, v)?,
        routes: check_routes(ctx, "new subnet", &new.host_routes, v)?,
    };
    let at = now();
    let m = Model {
        id,
        project_id: project,
        name: new.name,
        description: new.description,
        created_at: at,
        updated_at: at,
        revision_number: 0,
        network_id: net_row.id.clone(),
        ip_version: v as i32,
        cidr: net.to_string(),
        gateway_ip: gw.map(|g| g.to_string()),
        enable_dhcp: new.enable_dhcp,
        ipv6_ra_mode: new.ipv6_ra_mode,
        ipv6_address_mode: new.ipv6_address_mode,
        allocation_pools: lists.pools,
        dns_nameservers: lists.dns,
        host_routes: lists.routes,
    };
    let quota = super::quota::Limits::read(ctx, &m.project_id).await?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !network::touch(&txn, &net_row.id).await? {
        return Err(Error::not_found("Network", &net_row.id));
    }
    quota.check(&txn, "subnet", 1).await?;
    for other in subnet::of_network(&txn, &net_row.id).await? {
        let o = net_of(&other)?;
        if o.contains(&net.network()) || net.contains(&o.network()) {
            return Err(bad(format!(
                "Requested subnet with cidr: {net} for network: {} overlaps with another subnet",
                net_row.id
            )));
        }
    }
    let m = subnet::insert(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(subnet = %m.id, network = %m.network_id, cidr = %m.cidr, "subnet created");
    Ok(m)
}

pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    ch: Result<SubnetChanges, Error>,
) -> Result<Model, Error> {
    let (mut m, net_row) = visible(ctx, auth, id).await?;
    // Only now its body's errors: another project's resource is 404.
    let ch = ch?;
    auth.enforce("network:update_subnet", &target(&net_row, &m.project_id))?;
    let net = net_of(&m)?;
    let v = m.ip_version as u8;
    let gw = match &ch.gateway_ip {
        Some(g) => gateway(&net, g)?,
        None => m
            .gateway_ip
            .as_deref()
            .map(|g| ip("gateway_ip", g))
            .transpose()?,
    };
    let pools = match &ch.allocation_pools {
        Some(raw) => check_pools(&net, raw, gw)?,
        None => pools_of(&m)?,
    };
    if ch.gateway_ip.is_some() {
        ipam::check_pools(&net, &pools, gw).map_err(|_| {
            super::coded(
                "GatewayConflictWithAllocationPools",
                format!(
                    "Gateway ip {} conflicts with an allocation pool.",
                    gw.map(|g| g.to_string()).unwrap_or_default()
                ),
            )
        })?;
    }
    if let Some(dns) = &ch.dns_nameservers {
        m.dns_nameservers = check_dns(ctx, id, dns, v)?;
    }
    if let Some(routes) = &ch.host_routes {
        m.host_routes = check_routes(ctx, id, routes, v)?;
    }
    if let Some(g) = gw
        && ch.gateway_ip.is_some()
        && let Some(holder) = ip_allocation::holder(ctx.db(), id, &g.to_string()).await?
    {
        return Err(super::coded(
            "GatewayIpInUse",
            format!("Current gateway ip {g} already in use by port {holder}. Unable to update."),
        ));
    }
    m.allocation_pools = pools_json(&pools, v);
    m.gateway_ip = gw.map(|g| g.to_string());
    m.name = ch.name.unwrap_or(m.name);
    m.description = ch.description.unwrap_or(m.description);
    m.enable_dhcp = ch.enable_dhcp.unwrap_or(m.enable_dhcp);
    m.revision_number += 1;
    m.updated_at = now();
    subnet::update(ctx.db(), m).await
}

/// Deletes a subnet no port but DHCP ports has an address from; else 409.
pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    let (m, net_row) = visible(ctx, auth, id).await?;
    auth.enforce("network:delete_subnet", &target(&net_row, &m.project_id))?;
    let in_use = || {
        super::coded(
            "SubnetInUse",
            format!(
                "Unable to complete operation on subnet {id}: One or more ports have an IP allocation from this subnet."
            ),
        )
    };
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    network::touch(&txn, &m.network_id).await?;
    // DHCP ports serving it go (the next plan sync makes them again for
    // the network's other subnets).
    crate::db::port::delete_dhcp(&txn, &m.network_id, Some(id)).await?;
    if ip_allocation::count_in_subnet(&txn, id).await? > 0 || !subnet::delete(&txn, id).await? {
        return Err(in_use());
    }
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(subnet = %id, "subnet deleted");
    Ok(())
}
