//! Routers: who may see and change which, the external gateway (a port on
//! an external network, SNAT on or off), creation, update and deletion
//! (refused while interfaces remain). Interfaces are `router_interface`.

use virga_common::Error;
use virga_db::sea_orm::{ColumnTrait, Condition, ConnectionTrait};
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::fixed_ips::IpRequest;
use super::listing::{self, ListQuery};
use super::port::PortDoc;
use crate::db::listing::Kind;
use crate::db::router::{self, Column, Entity, GATEWAY, INTERFACE, Model};
use crate::db::{now, port};

pub const KIND: &str = "Router";

/// A router with its gateway port: what the API shows.
#[derive(Debug, Clone)]
pub struct RouterDoc {
    pub model: Model,
    pub gateway: Option<PortDoc>,
}

/// `external_gateway_info` as asked.
#[derive(Debug, Clone, Default)]
pub struct GatewayRequest {
    pub network_id: String,
    pub enable_snat: Option<bool>,
    pub fixed_ips: Option<Vec<IpRequest>>,
}

#[derive(Debug, Clone, Default)]
pub struct NewRouter {
    pub project_id: Option<String>,
    pub name: String,
    pub description: String,
    pub admin_state_up: bool,
    pub gateway: Option<GatewayRequest>,
}

#[derive(Debug, Clone, Default)]
pub struct RouterChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub admin_state_up: Option<bool>,
    /// `Some(None)`: remove the gateway.
    pub gateway: Option<Option<GatewayRequest>>,
}

pub fn target(m: &Model) -> Target {
    Target::new().with("project_id", m.project_id.clone())
}

fn bad(msg: String) -> Error {
    Error::BadRequest(format!("Bad router request: {msg}."))
}

pub async fn visible(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Model, Error> {
    let m = router::find(ctx.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    auth.enforce_visible("network:get_router", &target(&m), KIND, id)?;
    Ok(m)
}

async fn docs(db: &impl ConnectionTrait, rows: Vec<Model>) -> Result<Vec<RouterDoc>, Error> {
    let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
    let gw = router::gateways(db, &ids).await?;
    let ports: Vec<String> = gw.iter().map(|g| g.port_id.clone()).collect();
    let mut ports = super::port::docs_of(db, &ports).await?;
    Ok(rows
        .into_iter()
        .map(|model| {
            let gateway = gw.iter().find(|g| g.router_id == model.id).and_then(|g| {
                ports
                    .iter()
                    .position(|p| p.model.id == g.port_id)
                    .map(|i| ports.swap_remove(i))
            });
            RouterDoc { model, gateway }
        })
        .collect())
}

pub async fn get(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<RouterDoc, Error> {
    let m = visible(ctx, auth, id).await?;
    Ok(docs(ctx.db(), vec![m]).await?.remove(0))
}

fn columns(attr: &str) -> Option<(Column, Kind)> {
    Some(match attr {
        "id" => (Column::Id, Kind::Text),
        "name" => (Column::Name, Kind::Text),
        "description" => (Column::Description, Kind::Text),
        "project_id" | "tenant_id" => (Column::ProjectId, Kind::Text),
        "status" => (Column::Status, Kind::Text),
        "admin_state_up" => (Column::AdminStateUp, Kind::Bool),
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
    "revision_number",
];
pub const SORT_KEYS: &[&str] = &[
    "id",
    "name",
    "project_id",
    "tenant_id",
    "status",
    "admin_state_up",
];

pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    q: &ListQuery,
) -> Result<Vec<RouterDoc>, Error> {
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
    let rows = crate::db::listing::list(ctx.db(), Column::Id, spec).await?;
    docs(ctx.db(), rows).await
}

/// Checks a gateway request: the caller sees the network, it is external,
/// and only admins choose its addresses or SNAT.
async fn check_gateway(
    ctx: &ServiceContext,
    auth: &Auth,
    action: &str,
    t: &Target,
    g: &GatewayRequest,
) -> Result<(), Error> {
    let net = super::network::visible(ctx, auth, &g.network_id).await?;
    if !net.external {
        return Err(bad(format!(
            "Network {} is not a valid external network",
            net.id
        )));
    }
    if g.enable_snat.is_some() {
        auth.enforce(&format!("{action}:external_gateway_info:enable_snat"), t)?;
    }
    if g.fixed_ips.is_some() {
        auth.enforce(
            &format!("{action}:external_gateway_info:external_fixed_ips"),
            t,
        )?;
    }
    Ok(())
}

/// Makes the gateway port inside the transaction.
async fn add_gateway(
    db: &impl ConnectionTrait,
    ctx: &ServiceContext,
    router_id: &str,
    g: &GatewayRequest,
) -> Result<(), Error> {
    // The gateway port belongs to no project, as in Neutron.
    let p = super::port::create_owned(
        db,
        ctx,
        &g.network_id,
        "",
        GATEWAY,
        router_id,
        g.fixed_ips.as_deref(),
    )
    .await?;
    if p.fixed_ips.is_empty() {
        return Err(bad(format!(
            "No IP address is available on external network {}",
            g.network_id
        )));
    }
    router::add_port(db, router_id, &p.model.id, GATEWAY).await
}

async fn remove_gateway(db: &impl ConnectionTrait, router_id: &str) -> Result<(), Error> {
    for p in router::ports_of(db, router_id, Some(GATEWAY)).await? {
        port::delete(db, &p).await?;
    }
    Ok(())
}

pub async fn create(ctx: &ServiceContext, auth: &Auth, new: NewRouter) -> Result<RouterDoc, Error> {
    let project = super::project_of(auth, new.project_id.as_deref())?;
    let t = Target::new().with("project_id", project.clone());
    auth.enforce("network:create_router", &t)?;
    if let Some(g) = &new.gateway {
        check_gateway(ctx, auth, "network:create_router", &t, g).await?;
    }
    let at = now();
    let m = Model {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: project,
        name: new.name,
        description: new.description,
        created_at: at,
        updated_at: at,
        revision_number: 0,
        admin_state_up: new.admin_state_up,
        status: "ACTIVE".into(),
        gateway_network_id: new.gateway.as_ref().map(|g| g.network_id.clone()),
        enable_snat: new
            .gateway
            .as_ref()
            .and_then(|g| g.enable_snat)
            .unwrap_or(true),
    };
    let quota = super::quota::Limits::read(ctx, &m.project_id).await?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    quota.check(&txn, "router", 1).await?;
    let m = router::insert(&txn, m).await?;
    if let Some(g) = &new.gateway {
        add_gateway(&txn, ctx, &m.id, g).await?;
    }
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(router = %m.id, project = %m.project_id, "router created");
    Ok(docs(ctx.db(), vec![m]).await?.remove(0))
}

pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    ch: Result<RouterChanges, Error>,
) -> Result<RouterDoc, Error> {
    let mut m = visible(ctx, auth, id).await?;
    // Only now its body's errors: another project's resource is 404.
    let ch = ch?;
    let t = target(&m);
    auth.enforce("network:update_router", &t)?;
    if let Some(Some(g)) = &ch.gateway {
        check_gateway(ctx, auth, "network:update_router", &t, g).await?;
    }
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !router::touch(&txn, id).await? {
        return Err(Error::not_found(KIND, id));
    }
    if let Some(gateway) = &ch.gateway {
        if m.gateway_network_id.is_some() && super::floating_ip::routed_by(&txn, id).await? {
            return Err(super::coded(
                "RouterExternalGatewayInUseByFloatingIp",
                format!(
                    "Gateway cannot be updated for router {id}, since a gateway to external network {} is required by one or more floating IPs.",
                    m.gateway_network_id.clone().unwrap_or_default()
                ),
            ));
        }
        remove_gateway(&txn, id).await?;
        m.gateway_network_id = gateway.as_ref().map(|g| g.network_id.clone());
        m.enable_snat = gateway.as_ref().and_then(|g| g.enable_snat).unwrap_or(true);
        if let Some(g) = gateway {
            add_gateway(&txn, ctx, id, g).await?;
        }
    }
    m.name = ch.name.unwrap_or(m.name);
    m.description = ch.description.unwrap_or(m.description);
    m.admin_state_up = ch.admin_state_up.unwrap_or(m.admin_state_up);
    m.revision_number += 1;
    m.updated_at = now();
    let m = router::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    Ok(docs(ctx.db(), vec![m]).await?.remove(0))
}

/// Deletes a router without interfaces (and its gateway port); 409 while
/// it has interfaces.
pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    let m = visible(ctx, auth, id).await?;
    auth.enforce("network:delete_router", &target(&m))?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !router::touch(&txn, id).await? {
        return Err(Error::not_found(KIND, id));
    }
    if !router::ports_of(&txn, id, Some(INTERFACE))
        .await?
        .is_empty()
    {
        return Err(super::coded(
            "RouterInUse",
            format!("Router {id} still has ports"),
        ));
    }
    remove_gateway(&txn, id).await?;
    router::delete(&txn, id).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(router = %id, "router deleted");
    Ok(())
}
