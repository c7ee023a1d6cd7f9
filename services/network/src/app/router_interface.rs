//! A router's interfaces: a port on a tenant subnet holding the subnet's
//! gateway address (or a port the caller made, handed to the router).
//! One interface per subnet, no two subnets of a router overlapping; an
//! interface floating IPs route through stays.

use ipnet::IpNet;
use virga_common::Error;
use virga_db::sea_orm::ConnectionTrait;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::fixed_ips::IpRequest;
use super::router::{KIND, target, visible};
use crate::db::router::{self, INTERFACE};
use crate::db::{ip_allocation, port, subnet};

/// What add and remove answer: the router, the port, its subnets.
#[derive(Debug, Clone)]
pub struct InterfaceInfo {
    pub router_id: String,
    pub project_id: String,
    pub port_id: String,
    pub network_id: String,
    pub subnet_ids: Vec<String>,
}

/// What an interface is made from.
enum Named {
    Subnet(subnet::Model),
    Port(port::Model),
}

fn bad(msg: String) -> Error {
    Error::BadRequest(format!("Bad router request: {msg}."))
}

/// The subnets the router's interfaces are on, with their CIDRs.
async fn attached(
    db: &impl ConnectionTrait,
    router_id: &str,
) -> Result<Vec<(String, IpNet)>, Error> {
    let ports = router::ports_of(db, router_id, Some(INTERFACE)).await?;
    let ips = ip_allocation::of_ports(db, &ports).await?;
    let mut out = Vec::new();
    for a in ips.values().flatten() {
        if let Some(s) = subnet::find(db, &a.subnet_id).await? {
            out.push((s.id.clone(), super::subnet::net_of(&s)?));
        }
    }
    Ok(out)
}

/// Refuses a subnet the router is on already, or overlapping one it is on.
fn check_overlap(attached: &[(String, IpNet)], sid: &str, net: &IpNet) -> Result<(), Error> {
    for (other, o) in attached {
        if other == sid {
            return Err(bad(format!("Router already has a port on subnet {sid}")));
        }
        if o.contains(&net.network()) || net.contains(&o.network()) {
            return Err(bad(format!(
                "Cidr {net} of subnet {sid} overlaps with cidr {o} of subnet {other}"
            )));
        }
    }
    Ok(())
}

pub async fn add(
    ctx: &ServiceContext,
    auth: &Auth,
    router_id: &str,
    subnet_id: Option<String>,
    port_id: Option<String>,
) -> Result<InterfaceInfo, Error> {
    let r = visible(ctx, auth, router_id).await?;
    auth.enforce("network:add_router_interface", &target(&r))?;
    // What the caller names is looked up before the transaction, which
    // must not wait for a second pooled connection while holding one.
    let which = match (subnet_id, port_id) {
        (Some(_), Some(_)) => return Err(bad("Cannot specify both subnet-id and port-id".into())),
        (None, None) => return Err(bad("Either subnet_id or port_id must be specified".into())),
        (Some(sid), None) => Named::Subnet(super::subnet::visible(ctx, auth, &sid).await?.0),
        (None, Some(pid)) => Named::Port(super::port::visible(ctx, auth, &pid).await?.0),
    };
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !router::touch(&txn, router_id).await? {
        return Err(Error::not_found(KIND, router_id));
    }
    let on = attached(&txn, router_id).await?;
    let (port_id, network_id, subnet_ids) = match which {
        Named::Subnet(s) => {
            let Some(gw) = s.gateway_ip.clone() else {
                return Err(bad(
                    "Subnet for router interface must have a gateway IP".into()
                ));
            };
            check_overlap(&on, &s.id, &super::subnet::net_of(&s)?)?;
            let request = [IpRequest {
                subnet_id: Some(s.id.clone()),
                ip_address: Some(gw),
            }];
            let p = super::port::create_owned(
                &txn,
                ctx,
                &s.network_id,
                &r.project_id,
                INTERFACE,
                router_id,
                Some(&request),
            )
            .await?;
            (p.model.id, s.network_id, vec![s.id])
        }
        Named::Port(mut p) => {
            let pid = p.id.clone();
            if !p.device_id.is_empty() || !p.device_owner.is_empty() {
                return Err(super::coded(
                    "PortInUse",
                    format!(
                        "Unable to complete operation on port {pid} for network {}. Port already has an attached device {}.",
                        p.network_id, p.device_id
                    ),
                ));
            }
            let ips = ip_allocation::of_ports(&txn, std::slice::from_ref(&pid))
                .await?
                .remove(&pid)
                .unwrap_or_default();
            if ips.is_empty() {
                return Err(bad("Router port must have at least one fixed IP".into()));
            }
            let mut subnets = Vec::new();
            for a in &ips {
                let s = subnet::find(&txn, &a.subnet_id)
                    .await?
                    .ok_or_else(|| Error::not_found("Subnet", &a.subnet_id))?;
                check_overlap(&on, &s.id, &super::subnet::net_of(&s)?)?;
                subnets.push(s.id);
            }
            p.device_owner = INTERFACE.into();
            p.device_id = router_id.into();
            p.revision_number += 1;
            p.updated_at = crate::db::now();
            port::update(&txn, p.clone()).await?;
            (pid, p.network_id, subnets)
        }
    };
    router::add_port(&txn, router_id, &port_id, INTERFACE).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(router = %router_id, port = %port_id, subnets = ?subnet_ids, "router interface added");
    Ok(InterfaceInfo {
        router_id: router_id.to_owned(),
        project_id: r.project_id,
        port_id,
        network_id,
        subnet_ids,
    })
}

pub async fn remove(
    ctx: &ServiceContext,
    auth: &Auth,
    router_id: &str,
    subnet_id: Option<String>,
    port_id: Option<String>,
) -> Result<InterfaceInfo, Error> {
    let r = visible(ctx, auth, router_id).await?;
    auth.enforce("network:remove_router_interface", &target(&r))?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !router::touch(&txn, router_id).await? {
        return Err(Error::not_found(KIND, router_id));
    }
    let ports = router::ports_of(&txn, router_id, Some(INTERFACE)).await?;
    let ips = ip_allocation::of_ports(&txn, &ports).await?;
    let found = match (&subnet_id, &port_id) {
        (_, Some(pid)) => ips
            .get(pid)
            .map(|a| (pid.clone(), a.clone()))
            .ok_or_else(|| Error::NotFound {
                kind: "Router interface",
                id: format!("{pid} of router {router_id}"),
            })?,
        (Some(sid), None) => ips
            .iter()
            .find(|(_, a)| a.iter().any(|a| &a.subnet_id == sid))
            .map(|(p, a)| (p.clone(), a.clone()))
            .ok_or_else(|| Error::NotFound {
                kind: "Router interface",
                id: format!("on subnet {sid} of router {router_id}"),
            })?,
        (None, None) => return Err(bad("Either subnet_id or port_id must be specified".into())),
    };
    let (pid, addrs) = found;
    let subnet_ids: Vec<String> = addrs.iter().map(|a| a.subnet_id.clone()).collect();
    if super::floating_ip::through_interface(&txn, router_id, &subnet_ids).await? {
        return Err(super::coded(
            "RouterInterfaceInUseByFloatingIP",
            format!(
                "Router interface for subnet {} on router {router_id} cannot be deleted, as it is required by one or more floating IPs.",
                subnet_ids.join(",")
            ),
        ));
    }
    let network_id = addrs
        .first()
        .map(|a| a.network_id.clone())
        .unwrap_or_default();
    port::delete(&txn, &pid).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(router = %router_id, port = %pid, "router interface removed");
    Ok(InterfaceInfo {
        router_id: router_id.to_owned(),
        project_id: r.project_id,
        port_id: pid,
        network_id,
        subnet_ids,
    })
}
