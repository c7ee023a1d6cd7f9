//! The move saga's steps that act (claim, export, ports, build) and its
//! unwinding; each can run again after a crash and does what is left.

use serde_json::{Value, json};
use virga_common::Error;
use virga_protocol::agent::{AgentCommand, Power};
use virga_service::ServiceContext;
use virga_service::peer::{self, As, Method};

use super::super::create::{NO_VALID_HOST, select_body};
use super::super::ports::rebind;
use super::super::spec::ensure;
use super::super::{data, logged, release, row, tell};
use super::{
    BUILD, PORTS, STOP, UNWIND, advance, destroy_on, drop_image, image_call, of, power_of,
};
use crate::app::server_state::task;
use crate::db::instance;
use crate::db::instance_saga::Model;
use crate::db::migration::{self, status};

async fn scheduler(ctx: &ServiceContext, path: &str, body: &Value) -> Result<peer::Reply, Error> {
    peer::call(
        ctx,
        As::Service,
        "placement",
        Method::POST,
        path,
        Some(body),
        &[],
    )
    .await
}

/// Chooses and claims the target (never the source; the node asked for,
/// if one was; the server's site if it was created in one it asked for).
pub async fn claim(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    let d = data(&saga);
    let mut mig = of(ctx, &saga).await?;
    // A claim made before a crash is given back, then made again.
    release(ctx, std::slice::from_ref(&mig.uuid)).await?;
    let new: Value = serde_json::from_str(&mig.new_flavor).unwrap_or(Value::Null);
    let mut shaped = server.clone();
    shaped.flavor = new["flavor"].to_string();
    shaped.vcpus = new["vcpus"].as_i64().map_or(server.vcpus, |v| v as i32);
    shaped.memory_mb = new["memory_mb"].as_i64().unwrap_or(server.memory_mb);
    shaped.root_gb = new["root_gb"].as_i64().map_or(server.root_gb, |v| v as i32);
    let host = d["host"].as_str();
    let site = server
        .site_id
        .as_deref()
        .filter(|_| host.is_none() && server.availability_zone.is_some());
    let mut body = select_body(ctx, std::slice::from_ref(&mig.uuid), &shaped, site, None).await?;
    body["consumer_type"] = json!("MIGRATION");
    body["ignore_nodes"] = json!([mig.source_node]);
    if let Some(h) = host {
        body["nodes"] = json!([h]);
    }
    let r = scheduler(ctx, "/scheduler/v1/select", &body).await?;
    match r.status {
        200 => {}
        400 | 409 => {
            let why = format!("{NO_VALID_HOST}{}", r.body);
            return super::unwind(ctx, saga, server, &why).await;
        }
        s => {
            return Err(Error::Unavailable(format!(
                "the scheduler answered {s}: {}",
                r.body
            )));
        }
    }
    let sel = &r.body["selections"][0];
    mig.dest_node = sel["node"].as_str().map(str::to_owned);
    mig.dest_site = sel["site"].as_str().map(str::to_owned);
    let c = scheduler(
        ctx,
        "/scheduler/v1/confirm",
        &json!({"consumers": [mig.uuid]}),
    )
    .await?;
    if !(200..300).contains(&c.status) {
        return Err(Error::Unavailable(format!(
            "the scheduler answered {} to a confirm",
            c.status
        )));
    }
    migration::set_target(
        ctx.db(),
        &mig.uuid,
        mig.dest_node.as_deref(),
        mig.dest_site.as_deref(),
    )
    .await?;
    let mut d = d;
    if saga.kind == super::EVACUATE {
        // Nothing to stop or send: the node is down, its disk with it.
        let next = row(&server.id, &saga.kind, PORTS, d, saga.deadline);
        let Some(server) = advance(ctx, &saga, &next, None, |_| {}).await? else {
            return Ok(());
        };
        return ports(ctx, next, server).await;
    }
    let generation = server.generation + 1;
    d["generation"] = json!(generation);
    let next = row(&server.id, &saga.kind, STOP, d, saga.deadline);
    let edit = |m: &mut instance::Model| m.generation = m.generation.max(generation);
    let Some(server) = advance(ctx, &saga, &next, Some(status::PRE_MIGRATING), edit).await? else {
        // A delete took over (and gave back what it knew of): this claim too.
        return release(ctx, std::slice::from_ref(&mig.uuid)).await;
    };
    super::super::first_look(ctx, &server.id);
    let r = send_stop(ctx, &next, &server).await;
    if r.is_err() {
        super::super::forget(ctx, &server.id);
    }
    r
}

/// Asks the source to stop the guest (and for a full report: a guest
/// already stopped has nothing else to say).
pub(super) async fn send_stop(
    ctx: &ServiceContext,
    saga: &Model,
    server: &instance::Model,
) -> Result<(), Error> {
    let Some(node) = &server.node_id else {
        return Ok(());
    };
    super::super::ensure_and_report(ctx, node, saga, server, Power::Stopped).await
}

/// The format the source's driver writes disks in.
async fn disk_format(ctx: &ServiceContext, node: &str) -> Result<&'static str, Error> {
    let nodes = crate::app::site::nodes(ctx).await?;
    let driver = nodes
        .iter()
        .find(|n| n["uuid"] == node)
        .and_then(|n| n["facts"]["driver"].as_str());
    Ok(if driver == Some("simulated") {
        "raw"
    } else {
        "qcow2"
    })
}

/// Makes the image the disk travels in (its id the migration's) and asks
/// the source to send the disk into it; an image already holding the disk
/// (a restart after the upload) goes straight on.
pub async fn export(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    let mig = of(ctx, &saga).await?;
    let path = format!("/v2/images/{}", mig.uuid);
    let mut r = image_call(ctx, Method::GET, &path, None).await?;
    let format = disk_format(ctx, &mig.source_node).await?;
    if r.status == 404 {
        let body = json!({
            "id": mig.uuid, "name": format!("{}-{}", server.name, saga.kind),
            "disk_format": format, "container_format": "bare",
            "visibility": "private", "os_hidden": true,
        });
        let c = image_call(ctx, Method::POST, "/v2/images", Some(&body)).await?;
        if !matches!(c.status, 201 | 409) {
            let why = format!("the image service answered {}: {}", c.status, c.body);
            return super::unwind(ctx, saga, server, &why).await;
        }
        // A delete that took over meanwhile gave back what it found: an
        // image made after that is this step's to remove. (Held still,
        // whoever takes over later finds the image and removes it.)
        if !crate::db::instance_saga::holds(ctx.db(), &saga).await? {
            return drop_image(ctx, &mig.uuid).await;
        }
        r = image_call(ctx, Method::GET, &path, None).await?;
    }
    match (r.status, r.body["status"].as_str()) {
        (200, Some("active")) => ports(ctx, saga, server).await,
        (200, Some("queued")) => {
            let u = image_call(ctx, Method::POST, &format!("{path}/upload-url"), None).await?;
            let Some(url) = u.body["url"].as_str().filter(|_| u.status == 200) else {
                return Err(Error::Unavailable(format!(
                    "the image service gave no upload URL ({})",
                    u.status
                )));
            };
            let cmd = AgentCommand::ExportDisk {
                request_id: format!("req-{}", uuid::Uuid::new_v4()),
                instance: server.id.clone(),
                url: url.to_owned(),
                disk_format: format.to_owned(),
            };
            tell(ctx, &mig.source_node, &cmd).await
        }
        // An upload in flight: its end is reported.
        (200, Some("saving")) => Ok(()),
        (s, st) => {
            let why = format!("the image of the disk is {} ({s})", st.unwrap_or("unknown"));
            super::unwind(ctx, saga, server, &why).await
        }
    }
}

/// The ports bound to the target, then the record moved to it (the new
/// flavor, the disk's image) and the target told to build.
pub async fn ports(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    let (saga, server) = if saga.step == PORTS {
        (saga, server)
    } else {
        let next = row(
            &saga.instance_id,
            &saga.kind,
            PORTS,
            data(&saga),
            saga.deadline,
        );
        let edit = |m: &mut instance::Model| m.task_state = Some(task::RESIZE_MIGRATED.into());
        let Some(m) = advance(ctx, &saga, &next, None, edit).await? else {
            return Ok(());
        };
        (next, m)
    };
    let mig = of(ctx, &saga).await?;
    let Some(dest) = mig.dest_node.clone() else {
        return super::unwind(ctx, saga, server, "no target node").await;
    };
    let info = rebind(ctx, &server, &dest).await?;
    // A move's disk travelled in the migration's image; an evacuated
    // server's is made afresh from its own image (its disk was lost).
    let evacuating = saga.kind == super::EVACUATE;
    let disk = if evacuating {
        None
    } else {
        let img = image_call(ctx, Method::GET, &format!("/v2/images/{}", mig.uuid), None).await?;
        if img.status != 200 || img.body["status"] != "active" {
            return Err(Error::Unavailable(format!(
                "the disk's image is not ready ({}, {})",
                img.status, img.body["status"]
            )));
        }
        Some(json!({
            "id": mig.uuid, "disk_format": img.body["disk_format"],
            "os_hash_value": img.body["os_hash_value"], "size": img.body["size"],
        }))
    };
    let new: Value = serde_json::from_str(&mig.new_flavor).unwrap_or(Value::Null);
    let mut d = data(&saga);
    let generation = server.generation + 1;
    d["generation"] = json!(generation);
    let next = row(&server.id, &saga.kind, BUILD, d, saga.deadline);
    let edit = |m: &mut instance::Model| {
        m.node_id = Some(dest);
        m.site_id = mig.dest_site.clone();
        set_flavor(m, &new);
        let mut image: Value = serde_json::from_str(&m.image).unwrap_or_else(|_| json!({}));
        match disk {
            Some(disk) => image["disk"] = disk,
            None => {
                if let Some(o) = image.as_object_mut() {
                    o.remove("disk");
                }
                image["build"] = json!(image["build"].as_u64().unwrap_or(0) + 1);
            }
        }
        m.image = image.to_string();
        m.network_info = json!(info).to_string();
        m.generation = m.generation.max(generation);
        m.task_state = Some(
            if evacuating {
                task::REBUILDING
            } else {
                task::RESIZE_FINISH
            }
            .into(),
        );
    };
    let Some(server) = advance(ctx, &saga, &next, Some(status::POST_MIGRATING), edit).await? else {
        return Ok(());
    };
    super::super::first_look(ctx, &server.id);
    let r = send_build(ctx, &next, &server).await;
    if r.is_err() {
        super::super::forget(ctx, &server.id);
    }
    r
}

/// The flavor fields of a server from a migration's flavor document.
pub fn set_flavor(m: &mut instance::Model, f: &Value) {
    if let Some(id) = f["id"].as_str() {
        m.flavor_id = id.to_owned();
    }
    m.flavor = f["flavor"].to_string();
    m.vcpus = f["vcpus"].as_i64().map_or(m.vcpus, |v| v as i32);
    m.memory_mb = f["memory_mb"].as_i64().unwrap_or(m.memory_mb);
    m.root_gb = f["root_gb"].as_i64().map_or(m.root_gb, |v| v as i32);
}

/// Asks the target to build the server as its record now says.
pub(super) async fn send_build(
    ctx: &ServiceContext,
    saga: &Model,
    server: &instance::Model,
) -> Result<(), Error> {
    let Some(node) = &server.node_id else {
        return Ok(());
    };
    let d = data(saga);
    let g = d["generation"].as_i64().unwrap_or(server.generation);
    tell(ctx, node, &ensure(ctx, server, g, power_of(&d)).await?).await
}

/// Undoes the move (each part again if a crash cut it short) and leaves
/// the server as it was on its source, started again if it ran.
pub async fn unwind(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
    why: &str,
) -> Result<(), Error> {
    let saga = if saga.step == UNWIND {
        saga
    } else {
        // The generations the undoing sends are taken now, in the record:
        // a delete that takes over later sends newer ones.
        let generation = server.generation + 2;
        let mut d = data(&saga);
        d["why"] = json!(why);
        d["unwind_generation"] = json!(generation);
        let next = row(
            &saga.instance_id,
            &saga.kind,
            UNWIND,
            d,
            super::super::never(),
        );
        let reserve = |m: &mut instance::Model| m.generation = m.generation.max(generation);
        if advance(ctx, &saga, &next, None, reserve).await?.is_none() {
            return Ok(());
        }
        super::super::forget(ctx, &saga.instance_id);
        next
    };
    let d = data(&saga);
    let why = d["why"].as_str().unwrap_or(why).to_owned();
    let generation = d["unwind_generation"]
        .as_i64()
        .unwrap_or(server.generation + 2);
    let mig = of(ctx, &saga).await?;
    let source = mig.source_node.clone();
    if let Some(dest) = mig.dest_node.as_deref()
        && server.node_id.as_deref() == Some(dest)
    {
        destroy_on(ctx, dest, &server.id, generation - 1).await?;
    }
    let info = rebind(ctx, &server, &source).await?;
    release(ctx, std::slice::from_ref(&mig.uuid)).await?;
    drop_image(ctx, &mig.uuid).await?;
    let from = power_of(&d);
    let restore = |m: &mut instance::Model| {
        m.node_id = Some(source.clone());
        m.site_id = mig.source_site.clone();
        let old: Value = serde_json::from_str(&mig.old_flavor).unwrap_or(Value::Null);
        set_flavor(m, &old);
        m.image = mig.old_image.clone();
        m.network_info = json!(info).to_string();
        m.generation = m.generation.max(generation);
        super::settle(m, from);
    };
    let mut back = server.clone();
    restore(&mut back);
    // Told before the record says so: a crash in between tells it again
    // (the same generation: nothing changes twice).
    tell(ctx, &source, &ensure(ctx, &back, generation, from).await?).await?;
    let Some((txn, mut m)) = super::super::finishing(ctx, &saga).await? else {
        return Ok(());
    };
    restore(&mut m);
    instance::update(&txn, m).await?;
    migration::set_status(&txn, &mig.uuid, status::ERROR).await?;
    logged(&txn, &saga, Err(&why)).await?;
    txn.commit().await.map_err(Error::internal)?;
    tracing::warn!(instance = %saga.instance_id, migration = %mig.uuid, reason = %why, "move failed and undone");
    Ok(())
}
