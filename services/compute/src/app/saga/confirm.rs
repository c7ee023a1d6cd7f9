//! Ending a move that waits in VERIFY_RESIZE.
//!
//! - **confirm** (`confirmResize`), one step: the source's guest destroyed
//!   (its node's queue holds the command if it is away), the target's
//!   claim made the server's own (the scheduler's `transfer`: the source's
//!   capacity freed), the disk's image deleted.
//! - **revert** (`revertResize`): `revert` (the target's guest destroyed,
//!   the ports bound back, the record back on the source with the old
//!   flavor, the source told to run the guest as it was) -> `wait` (until
//!   the source reports it so) -> the target's claim and the image given
//!   back. A source that cannot start the guest leaves the server in
//!   ERROR with the fault.

use serde_json::{Value, json};
use virga_common::Error;
use virga_protocol::agent::{InstanceState, InstanceStatus, Power};
use virga_service::ServiceContext;

use super::migration::{destroy_on, drop_image, set_flavor, settle};
use super::ports::rebind;
use super::{data, logged, release, row};
use crate::app::server_state::{power, vm};
use crate::db::instance_saga::{self, Model};
use crate::db::migration::{self, status};
use crate::db::{instance, now};

pub const CONFIRM: &str = "confirm_resize";
pub const REVERT: &str = "revert_resize";

/// The steps: confirm's only one, revert's two.
pub const CONFIRMING: &str = "confirm";
pub const REVERTING: &str = "revert";
pub const WAIT: &str = "wait";

/// The events they log (Nova's).
pub fn event(kind: &str) -> &'static str {
    if kind == CONFIRM {
        "compute_confirm_resize"
    } else {
        "compute_revert_resize"
    }
}

/// The saga's data: the request, the migration, the power the server has.
pub fn start_data(request_id: &str, migration: &str, power_state: i32) -> Value {
    let to = if power_state == power::SHUTDOWN {
        "stopped"
    } else {
        "running"
    };
    json!({"request_id": request_id, "migration": migration, "to": to})
}

fn power_of(d: &Value) -> Power {
    match d["to"].as_str() {
        Some("stopped") => Power::Stopped,
        _ => Power::Running,
    }
}

async fn of(ctx: &ServiceContext, saga: &Model) -> Result<migration::Model, Error> {
    let id = data(saga)["migration"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    migration::find(ctx.db(), &id)
        .await?
        .ok_or_else(|| Error::internal(format!("saga of {} names no migration", saga.instance_id)))
}

pub async fn confirm(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    let mig = of(ctx, &saga).await?;
    destroy_on(ctx, &mig.source_node, &server.id, server.generation).await?;
    super::transfer(ctx, &mig.uuid, &server.id).await?;
    drop_image(ctx, &mig.uuid).await?;
    let Some((txn, mut m)) = super::finishing(ctx, &saga).await? else {
        return Ok(());
    };
    settle(&mut m, power_of(&data(&saga)));
    instance::update(&txn, m).await?;
    migration::set_status(&txn, &mig.uuid, status::CONFIRMED).await?;
    logged(&txn, &saga, Ok(())).await?;
    txn.commit().await.map_err(Error::internal)?;
    tracing::info!(instance = %saga.instance_id, migration = %mig.uuid, "move confirmed");
    Ok(())
}

pub async fn revert(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    let mig = of(ctx, &saga).await?;
    let source = mig.source_node.clone();
    if let Some(dest) = mig.dest_node.as_deref()
        && server.node_id.as_deref() == Some(dest)
    {
        destroy_on(ctx, dest, &server.id, server.generation + 1).await?;
    }
    let info = rebind(ctx, &server, &source).await?;
    let generation = server.generation + 2;
    let mut d = data(&saga);
    d["generation"] = json!(generation);
    let next = row(&server.id, REVERT, WAIT, d, super::never());
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let locked = instance::lock(&txn, &server.id).await?;
    let (Some(mut m), true) = (locked, instance_saga::advance(&txn, &saga, &next).await?) else {
        return Ok(());
    };
    m.node_id = Some(source);
    m.site_id = mig.source_site.clone();
    set_flavor(
        &mut m,
        &serde_json::from_str(&mig.old_flavor).unwrap_or(Value::Null),
    );
    m.image = mig.old_image.clone();
    m.network_info = json!(info).to_string();
    m.generation = m.generation.max(generation);
    m.updated_at = now();
    let m = instance::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    super::first_look(ctx, &m.id);
    let r = send(ctx, &next, &m).await;
    if r.is_err() {
        super::forget(ctx, &m.id);
    }
    r
}

async fn send(ctx: &ServiceContext, saga: &Model, server: &instance::Model) -> Result<(), Error> {
    let Some(node) = &server.node_id else {
        return Ok(());
    };
    // A stopped server is reverted stopped.
    super::ensure_and_report(ctx, node, saga, server, power_of(&data(saga))).await
}

/// The sweeper's look at a revert waiting for the source: the command
/// goes again once per run of this service.
pub async fn waiting(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    if !super::first_look(ctx, &server.id) {
        return Ok(());
    }
    let r = send(ctx, &saga, &server).await;
    if r.is_err() {
        super::forget(ctx, &server.id);
    }
    r
}

/// What the source reports while a revert waits for it.
pub async fn reported(ctx: &ServiceContext, saga: Model, s: &InstanceStatus) -> Result<(), Error> {
    let d = data(&saga);
    if (s.generation as i64) < d["generation"].as_i64().unwrap_or(0) {
        return Ok(());
    }
    let to = power_of(&d);
    let failed = s.failed || s.state == InstanceState::Error;
    let reached = matches!(
        (to, s.state),
        (Power::Running, InstanceState::Running) | (Power::Stopped, InstanceState::Stopped)
    );
    if !failed && !reached {
        return Ok(());
    }
    let mig = of(ctx, &saga).await?;
    release(ctx, std::slice::from_ref(&mig.uuid)).await?;
    drop_image(ctx, &mig.uuid).await?;
    let Some((txn, mut m)) = super::finishing(ctx, &saga).await? else {
        return Ok(());
    };
    settle(&mut m, to);
    let why = s
        .reason
        .clone()
        .unwrap_or_else(|| "the node failed it".into());
    if failed {
        m.vm_state = vm::ERROR.into();
        m.power_state = power::NOSTATE;
        let message = format!("Revert of the resize of instance {} failed: {why}", m.id);
        m.fault = Some(
            json!({"code": 500, "message": message, "details": why,
                   "created": crate::http::nova_time(&m.updated_at)})
            .to_string(),
        );
    }
    instance::update(&txn, m).await?;
    migration::set_status(&txn, &mig.uuid, status::REVERTED).await?;
    logged(&txn, &saga, if failed { Err(&why) } else { Ok(()) }).await?;
    txn.commit().await.map_err(Error::internal)?;
    super::forget(ctx, &saga.instance_id);
    tracing::info!(instance = %saga.instance_id, migration = %mig.uuid, failed, "move reverted");
    Ok(())
}
