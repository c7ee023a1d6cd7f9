//! Ports: who may see, make and change which (the port's project, or the
//! owner of its network); creation with a MAC and addresses in one
//! transaction; updates that move addresses; deletion, which frees them.

use std::net::IpAddr;

use serde_json::Value;
use virga_common::Error;
use virga_db::sea_orm::ConnectionTrait;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::fixed_ips::{self, IpRequest};

mod attrs;
mod list;
mod owned;
use crate::db::port::{self, Model};
use crate::db::{ip_allocation, network, now, security_group};
use attrs::{check_vnic, enforce_attrs, pairs_json, port_security_needed, random_mac, restricted};
pub use attrs::{parse_mac, show_mac};
pub use list::{FILTERS, SORT_KEYS, list};
pub use owned::SERVICE_OWNERS;
pub(crate) use owned::{create_owned, docs_of};

const KIND: &str = "Port";

/// An allowed address pair as asked: an address or CIDR, and a MAC
/// (the port's when none).
pub type AddressPair = (String, Option<String>);

/// A port with its addresses, (subnet id, address), IPv4 first.
#[derive(Debug, Clone)]
pub struct PortDoc {
    pub model: Model,
    pub fixed_ips: Vec<(String, String)>,
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewPort {
    pub project_id: Option<String>,
    pub network_id: String,
    pub name: String,
    pub description: String,
    pub admin_state_up: bool,
    pub mac_address: Option<String>,
    pub fixed_ips: Option<Vec<IpRequest>>,
    pub device_id: String,
    pub device_owner: String,
    pub port_security_enabled: Option<bool>,
    pub binding_host_id: Option<String>,
    pub binding_vnic_type: Option<String>,
    pub binding_profile: Option<Value>,
    pub allowed_address_pairs: Option<Vec<AddressPair>>,
    pub security_groups: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct PortChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub admin_state_up: Option<bool>,
    pub mac_address: Option<String>,
    pub fixed_ips: Option<Vec<IpRequest>>,
    pub device_id: Option<String>,
    pub device_owner: Option<String>,
    pub port_security_enabled: Option<bool>,
    pub binding_host_id: Option<String>,
    pub binding_vnic_type: Option<String>,
    pub binding_profile: Option<Value>,
    pub allowed_address_pairs: Option<Vec<AddressPair>>,
    pub security_groups: Option<Vec<String>>,
}

pub const VNIC_TYPES: &[&str] = &[
    "normal",
    "direct",
    "macvtap",
    "baremetal",
    "direct-physical",
    "virtio-forwarder",
    "smart-nic",
    "remote-managed",
];

fn target(port_project: &str, net: &network::Model) -> Target {
    Target::new()
        .with("project_id", port_project.to_owned())
        .with("network_project_id", net.project_id.clone())
        .with("network_shared", if net.shared { "True" } else { "False" })
}

/// Whether ports of other projects than the network's are on it (then it
/// cannot stop being shared).
pub async fn others_on(db: &impl ConnectionTrait, net: &network::Model) -> Result<bool, Error> {
    Ok(port::projects_on(db, &net.id)
        .await?
        .iter()
        .any(|p| p != &net.project_id))
}

/// The port, if the caller may see it; else 404.
pub async fn visible(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
) -> Result<(Model, network::Model), Error> {
    let m = port::find(ctx.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    let net = network::find(ctx.db(), &m.network_id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    auth.enforce_visible("network:get_port", &target(&m.project_id, &net), KIND, id)?;
    Ok((m, net))
}

pub async fn get(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<PortDoc, Error> {
    let (m, _) = visible(ctx, auth, id).await?;
    Ok(docs(ctx.db(), vec![m]).await?.remove(0))
}

fn security_needs_port_security() -> Error {
    Error::BadRequest(
        "Invalid input for operation: Port security must be enabled and port must have an IP address in order to use security groups.".into(),
    )
}

pub(super) fn ip_key(ip: &str) -> (bool, u128) {
    match ip.parse::<IpAddr>() {
        Ok(a) => (a.is_ipv6(), super::ipam::to_int(a)),
        Err(_) => (true, u128::MAX),
    }
}

pub(super) async fn docs(
    db: &impl ConnectionTrait,
    rows: Vec<Model>,
) -> Result<Vec<PortDoc>, Error> {
    let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
    let mut ips = ip_allocation::of_ports(db, &ids).await?;
    let mut groups = security_group::of_ports(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|model| {
            let mut fixed: Vec<(String, String)> = ips
                .remove(&model.id)
                .unwrap_or_default()
                .into_iter()
                .map(|a| (a.subnet_id, a.ip_address))
                .collect();
            fixed.sort_by_key(|(_, ip)| ip_key(ip));
            PortDoc {
                security_groups: groups.remove(&model.id).unwrap_or_default(),
                model,
                fixed_ips: fixed,
            }
        })
        .collect())
}

pub async fn create(ctx: &ServiceContext, auth: &Auth, new: NewPort) -> Result<PortDoc, Error> {
    let net = super::network::visible(ctx, auth, &new.network_id).await?;
    let project = super::project_of(auth, new.project_id.as_deref())?;
    let t = target(&project, &net);
    auth.enforce("network:create_port", &t)?;
    let attrs = restricted(
        new.mac_address.is_some(),
        new.fixed_ips.as_deref(),
        new.binding_host_id.is_some(),
        new.binding_profile.is_some(),
        Some(&new.device_owner),
        new.port_security_enabled.is_some(),
        new.allowed_address_pairs.is_some(),
    );
    enforce_attrs(auth, "network:create_port", &t, &attrs)?;
    let vnic = new.binding_vnic_type.unwrap_or_else(|| "normal".into());
    check_vnic(&vnic)?;
    let security = new
        .port_security_enabled
        .unwrap_or(net.port_security_enabled);
    let given_mac = new.mac_address.as_deref().map(parse_mac).transpose()?;
    let groups = match &new.security_groups {
        Some(list) if !list.is_empty() && !security => return Err(security_needs_port_security()),
        Some(list) => super::security_group::check_for_port(ctx, auth, &project, list).await?,
        // A port with port security is in its project's default group
        // unless it names others; network-owned ports are in none.
        None if security && !new.device_owner.starts_with("network:") => {
            vec![super::security_group::ensure_default(ctx, &project).await?]
        }
        None => Vec::new(),
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
        network_id: net.id.clone(),
        mac_address: String::new(),
        admin_state_up: new.admin_state_up,
        status: "DOWN".into(),
        device_id: new.device_id,
        device_owner: new.device_owner,
        port_security_enabled: security,
        binding_host_id: new.binding_host_id.unwrap_or_default(),
        binding_vnic_type: vnic,
        binding_profile: new
            .binding_profile
            .unwrap_or_else(|| Value::Object(Default::default()))
            .to_string(),
        allowed_address_pairs: "[]".into(),
    };
    let quota = super::quota::Limits::read(ctx, &m.project_id).await?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    quota.check(&txn, "port", 1).await?;
    let mut mac = [0u8; 6];
    for attempt in 0.. {
        mac = match given_mac {
            Some(g) => g,
            None => random_mac(&ctx.config().network.base_mac)?,
        };
        m.mac_address = show_mac(mac);
        if let Some(pairs) = &new.allowed_address_pairs {
            if !security && !pairs.is_empty() {
                return Err(port_security_needed());
            }
            m.allowed_address_pairs = pairs_json(pairs, &m.mac_address)?;
        }
        match port::insert(&txn, m.clone()).await? {
            port::Inserted::Yes => break,
            port::Inserted::NoNetwork => return Err(Error::not_found("Network", &net.id)),
            port::Inserted::MacTaken if given_mac.is_none() && attempt < 16 => continue,
            port::Inserted::MacTaken => {
                return Err(super::coded(
                    "MacAddressInUse",
                    format!(
                        "Unable to complete operation for network {}. The mac address {} is in use.",
                        net.id, m.mac_address
                    ),
                ));
            }
        }
    }
    let router = m.device_owner.starts_with("network:router");
    let ips = fixed_ips::take(
        &txn,
        &net.id,
        &m.id,
        mac,
        new.fixed_ips.as_deref(),
        &[],
        router,
    )
    .await?;
    if !security_group::add_port_groups(&txn, &m.id, &groups).await? {
        return Err(Error::not_found(
            super::security_group::KIND,
            groups.join(", "),
        ));
    }
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(port = %m.id, network = %m.network_id, ips = ?ips, "port created");
    let mut doc = PortDoc {
        model: m,
        fixed_ips: ips,
        security_groups: groups,
    };
    doc.fixed_ips.sort_by_key(|(_, ip)| ip_key(ip));
    Ok(doc)
}

pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    ch: Result<PortChanges, Error>,
) -> Result<PortDoc, Error> {
    let (mut m, net) = visible(ctx, auth, id).await?;
    // Only now its body's errors: another project's resource is 404.
    let ch = ch?;
    let t = target(&m.project_id, &net);
    auth.enforce("network:update_port", &t)?;
    let attrs = restricted(
        ch.mac_address.is_some(),
        ch.fixed_ips.as_deref(),
        ch.binding_host_id.is_some(),
        ch.binding_profile.is_some(),
        ch.device_owner.as_deref(),
        ch.port_security_enabled.is_some(),
        ch.allowed_address_pairs.is_some(),
    );
    enforce_attrs(auth, "network:update_port", &t, &attrs)?;
    if let Some(v) = &ch.binding_vnic_type {
        check_vnic(v)?;
    }
    if let Some(raw) = &ch.mac_address {
        if !m.binding_host_id.is_empty() {
            return Err(super::coded(
                "PortBound",
                format!(
                    "Unable to complete operation on port {id}, port is already bound, port type: bridge, old_mac {}, new_mac {raw}.",
                    m.mac_address
                ),
            ));
        }
        m.mac_address = show_mac(parse_mac(raw)?);
    }
    let security = ch.port_security_enabled.unwrap_or(m.port_security_enabled);
    if let Some(pairs) = &ch.allowed_address_pairs {
        m.allowed_address_pairs = pairs_json(pairs, &m.mac_address)?;
    }
    if !security && m.allowed_address_pairs != "[]" {
        return Err(port_security_needed());
    }
    let groups = match &ch.security_groups {
        Some(list) => {
            Some(super::security_group::check_for_port(ctx, auth, &m.project_id, list).await?)
        }
        None => None,
    };
    let in_groups = match &groups {
        Some(g) => !g.is_empty(),
        None => security_group::of_ports(ctx.db(), std::slice::from_ref(&m.id))
            .await?
            .contains_key(&m.id),
    };
    if !security && in_groups {
        return Err(super::coded(
            "PortSecurityPortHasSecurityGroup",
            "Port has security group associated. Cannot disable port security or IP address until security group is removed.".into(),
        ));
    }
    m.port_security_enabled = security;
    m.name = ch.name.unwrap_or(m.name);
    m.description = ch.description.unwrap_or(m.description);
    m.admin_state_up = ch.admin_state_up.unwrap_or(m.admin_state_up);
    m.device_id = ch.device_id.unwrap_or(m.device_id);
    m.device_owner = ch.device_owner.unwrap_or(m.device_owner);
    if let Some(host) = ch.binding_host_id
        && host != m.binding_host_id
    {
        // Active again once the new node applied its plan.
        m.binding_host_id = host;
        m.status = "DOWN".into();
    }
    m.binding_vnic_type = ch.binding_vnic_type.unwrap_or(m.binding_vnic_type);
    if let Some(p) = ch.binding_profile {
        m.binding_profile = p.to_string();
    }
    m.revision_number += 1;
    m.updated_at = now();
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !port::update(&txn, m.clone()).await? {
        return Err(super::coded(
            "MacAddressInUse",
            format!(
                "Unable to complete operation for network {}. The mac address {} is in use.",
                net.id, m.mac_address
            ),
        ));
    }
    let held: Vec<(String, String)> = ip_allocation::of_ports(&txn, std::slice::from_ref(&m.id))
        .await?
        .remove(&m.id)
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.subnet_id, a.ip_address))
        .collect();
    if let Some(requests) = &ch.fixed_ips {
        let mac = parse_mac(&m.mac_address)?;
        let router = m.device_owner.starts_with("network:router");
        // Addresses no longer asked for go back first, so an address can
        // move to another entry of the same request.
        let kept = fixed_ips::kept(&held, requests);
        let gone: Vec<(String, String)> =
            held.iter().filter(|h| !kept.contains(h)).cloned().collect();
        ip_allocation::release(&txn, &m.id, &gone).await?;
        fixed_ips::take(&txn, &net.id, &m.id, mac, Some(requests), &kept, router).await?;
    }
    if let Some(groups) = &groups
        && !security_group::set_port_groups(&txn, &m.id, groups).await?
    {
        return Err(Error::not_found(
            super::security_group::KIND,
            groups.join(", "),
        ));
    }
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    Ok(docs(ctx.db(), vec![m]).await?.remove(0))
}

/// Deletes the port; its addresses are free at once.
pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    let (m, net) = visible(ctx, auth, id).await?;
    auth.enforce("network:delete_port", &target(&m.project_id, &net))?;
    if SERVICE_OWNERS.contains(&m.device_owner.as_str()) {
        return Err(super::coded(
            "ServicePortInUse",
            format!(
                "Port {id} cannot be deleted directly via the port API: has device owner {}.",
                m.device_owner
            ),
        ));
    }
    // Its floating IPs stay, unassociated.
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    crate::db::floating_ip::disassociate_port(&txn, id).await?;
    if !port::delete(&txn, id).await? {
        return Err(Error::not_found(KIND, id));
    }
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(port = %id, "port deleted");
    Ok(())
}
