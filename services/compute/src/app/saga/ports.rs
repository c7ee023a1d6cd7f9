//! The create saga's `ports` step: a port made on each network asked for
//! (or the port given, bound), bound to the server's node, so the node's
//! network plan plugs and filters it; and the ports given back when a
//! build unwinds or the server is deleted (made ones deleted, given ones
//! unbound and kept, as Nova's `preserve_on_delete`).
//!
//! Each port is recorded in the saga's data as soon as it is made: a
//! restarted step goes on after it, and adopts a port made just before a
//! crash (it carries the server's id as its `device_id`).

use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::peer::{self, As, Method};

use super::create::{SPAWN, fail, spawn};
use super::{CREATE, data, row};
use crate::app::server_input::NetworkRequest;
use crate::db::instance_saga::{self, Model};
use crate::db::{instance, now};

pub const PORTS: &str = "ports";

async fn network(
    ctx: &ServiceContext,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<peer::Reply, Error> {
    peer::call(ctx, As::Service, "network", method, path, body, &[]).await
}

/// The ports whose `device_id` is the server.
async fn of_server(ctx: &ServiceContext, id: &str) -> Result<Vec<Value>, Error> {
    let r = network(
        ctx,
        Method::GET,
        &format!("/v2.0/ports?device_id={id}"),
        None,
    )
    .await?;
    if r.status != 200 {
        return Err(Error::Unavailable(format!(
            "the network service answered {} to a port listing",
            r.status
        )));
    }
    Ok(r.body["ports"].as_array().cloned().unwrap_or_default())
}

/// Neutron's message of a refusal.
fn refusal(r: &peer::Reply) -> String {
    r.body["NeutronError"]["message"]
        .as_str()
        .map_or_else(|| r.body.to_string(), str::to_owned)
}

fn owner(server: &instance::Model) -> String {
    format!(
        "compute:{}",
        server.availability_zone.as_deref().unwrap_or("nova")
    )
}

/// Makes or binds the port for `r`: Ok(Err(message)) when the network
/// service refuses (the build fails with its words).
async fn port_for(
    ctx: &ServiceContext,
    server: &instance::Model,
    node: &str,
    r: &NetworkRequest,
    adopt: Option<&Value>,
) -> Result<Result<Value, String>, Error> {
    let binding =
        json!({"device_id": server.id, "device_owner": owner(server), "binding:host_id": node});
    let reply = match (&r.port, adopt) {
        (Some(p), _) => {
            let body = json!({ "port": binding });
            network(ctx, Method::PUT, &format!("/v2.0/ports/{p}"), Some(&body)).await?
        }
        (None, Some(orphan)) => return Ok(Ok(orphan.clone())),
        (None, None) => {
            let mut port = binding;
            port["network_id"] = json!(r.uuid);
            port["project_id"] = json!(server.project_id);
            if let Some(ip) = &r.fixed_ip {
                port["fixed_ips"] = json!([{ "ip_address": ip }]);
            }
            let groups: Vec<Value> =
                serde_json::from_str(&server.security_groups).unwrap_or_default();
            if !groups.is_empty() {
                port["security_groups"] =
                    json!(groups.iter().map(|g| g["id"].clone()).collect::<Vec<_>>());
            }
            network(
                ctx,
                Method::POST,
                "/v2.0/ports",
                Some(&json!({ "port": port })),
            )
            .await?
        }
    };
    match reply.status {
        200 | 201 => Ok(Ok(reply.body["port"].clone())),
        400..=499 => Ok(Err(refusal(&reply))),
        s => Err(Error::Unavailable(format!(
            "the network service answered {s} to a port request"
        ))),
    }
}

/// What the server and its node need to know of a port.
async fn entry(ctx: &ServiceContext, port: &Value, preserve: bool) -> Result<Value, Error> {
    let net = port["network_id"].as_str().unwrap_or_default();
    let n = network(ctx, Method::GET, &format!("/v2.0/networks/{net}"), None).await?;
    Ok(json!({
        "id": port["id"],
        "network_id": net,
        "network_name": n.body["network"]["name"].as_str().unwrap_or(net),
        "mac": port["mac_address"],
        "ips": port["fixed_ips"].as_array().into_iter().flatten()
            .filter_map(|f| f["ip_address"].as_str()).collect::<Vec<_>>(),
        "bridge": port["binding:vif_details"]["bridge_name"],
        "preserve": preserve,
    }))
}

pub async fn ports(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    let Some(node) = server.node_id.clone() else {
        return fail(
            ctx,
            saga,
            server,
            super::create::NO_VALID_HOST,
            "no node",
            false,
        )
        .await;
    };
    let asked: Vec<NetworkRequest> = serde_json::from_str(&server.networks).unwrap_or_default();
    if asked.is_empty() {
        // Nothing to make or record: spawn moves the saga on itself.
        return spawn(ctx, saga, server).await;
    }
    let mut d = data(&saga);
    let mut info: Vec<Value> = d["ports"].as_array().cloned().unwrap_or_default();
    let mut current = saga;
    let existing = if info.len() < asked.len() {
        of_server(ctx, &server.id).await?
    } else {
        vec![]
    };
    for r in asked.iter().skip(info.len()) {
        let taken = |p: &&Value| info.iter().any(|i| i["id"] == p["id"]);
        let orphan = existing
            .iter()
            .filter(|p| !taken(p))
            .find(|p| r.port.is_none() && p["network_id"].as_str() == r.uuid.as_deref());
        let port = match port_for(ctx, &server, &node, r, orphan).await? {
            Ok(p) => p,
            Err(why) => {
                let message = format!("Build of instance {} aborted: {why}", server.id);
                return fail(ctx, current, server, &message, &why, false).await;
            }
        };
        info.push(entry(ctx, &port, r.port.is_some()).await?);
        d["ports"] = json!(info);
        let next = row(&server.id, CREATE, PORTS, d.clone(), current.deadline);
        if !record(ctx, &current, &next, &info).await? {
            return Ok(());
        }
        current = next;
    }
    let next = row(&server.id, CREATE, SPAWN, d, current.deadline);
    if !record(ctx, &current, &next, &info).await? {
        return Ok(());
    }
    let server = instance::find(ctx.db(), &server.id)
        .await?
        .unwrap_or(server);
    spawn(ctx, next, server).await
}

/// Moves the saga on and keeps the ports on the server; false when the
/// create no longer holds it.
async fn record(
    ctx: &ServiceContext,
    from: &Model,
    next: &Model,
    info: &[Value],
) -> Result<bool, Error> {
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let locked = instance::lock(&txn, &from.instance_id).await?;
    let (Some(mut m), true) = (locked, instance_saga::advance(&txn, from, next).await?) else {
        return Ok(false);
    };
    m.network_info = json!(info).to_string();
    m.updated_at = now();
    instance::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    Ok(true)
}

/// Gives the server's ports back: those given at create are unbound and
/// kept, those made for it deleted.
pub async fn give_back(ctx: &ServiceContext, server: &instance::Model) -> Result<(), Error> {
    let asked: Vec<NetworkRequest> = serde_json::from_str(&server.networks).unwrap_or_default();
    // Ports are made only for networks asked for: none asked, none to find.
    if asked.is_empty() {
        return Ok(());
    }
    for p in of_server(ctx, &server.id).await? {
        let id = p["id"].as_str().unwrap_or_default();
        let given = asked.iter().any(|r| r.port.as_deref() == Some(id));
        let r = if given {
            let body =
                json!({"port": {"device_id": "", "device_owner": "", "binding:host_id": ""}});
            network(ctx, Method::PUT, &format!("/v2.0/ports/{id}"), Some(&body)).await?
        } else {
            network(ctx, Method::DELETE, &format!("/v2.0/ports/{id}"), None).await?
        };
        if !matches!(r.status, 200..=299 | 404) {
            return Err(Error::Unavailable(format!(
                "the network service answered {} giving port {id} back",
                r.status
            )));
        }
    }
    Ok(())
}

/// Binds the server's ports to `node` (a move to it, or back), keeping
/// each port's place in the server's info; a port deleted meanwhile is
/// dropped. What the server's info becomes.
pub async fn rebind(
    ctx: &ServiceContext,
    server: &instance::Model,
    node: &str,
) -> Result<Vec<Value>, Error> {
    let info: Vec<Value> = serde_json::from_str(&server.network_info).unwrap_or_default();
    let mut out = Vec::with_capacity(info.len());
    for p in info {
        let id = p["id"].as_str().unwrap_or_default();
        let body = json!({"port": {"binding:host_id": node}});
        let r = network(ctx, Method::PUT, &format!("/v2.0/ports/{id}"), Some(&body)).await?;
        match r.status {
            200 => {
                let preserve = p["preserve"].as_bool().unwrap_or(false);
                out.push(entry(ctx, &r.body["port"], preserve).await?);
            }
            404 => {
                tracing::warn!(instance = %server.id, port = id, "a moving server's port is gone")
            }
            s => {
                return Err(Error::Unavailable(format!(
                    "the network service answered {s} binding port {id}: {}",
                    refusal(&r)
                )));
            }
        }
    }
    Ok(out)
}
