//! The move saga (a resize, a cold migration): a server goes from its
//! node to another, as Nova's resize and cross-cell resize do.
//!
//! `claim` (the scheduler chooses and claims a target under the
//! migration's own consumer, never the source node) -> `stop` (the guest
//! stopped on the source, until its node says so) -> `export` (the
//! source's node sends the disk into an image of the image service, named
//! by the migration's id: the one path every edge node has, to the centre)
//! -> `ports` (bound to the target) -> `build` (the server's record now
//! says the target and the new flavor; the target's node builds from the
//! image, until it reports the server as it was) -> VERIFY_RESIZE. The
//! source keeps its stopped guest and its claim until the move is
//! confirmed or reverted (`saga::confirm`).
//!
//! Anything failing, or the move taking longer than
//! `compute.build_timeout_secs`, unwinds it (`unwind`): the target's guest
//! destroyed, the ports bound back, the claim and the image given back,
//! the server as it was on its source, started again if it ran.

use chrono::Utc;
use serde_json::Value;
use virga_common::Error;
use virga_protocol::agent::{InstanceState, InstanceStatus, Power};
use virga_service::ServiceContext;

use super::action::power_in;
use super::{data, logged, row};
use crate::app::server_state::{power, task, vm};
use crate::db::instance_saga::{self, Model};
use crate::db::migration::{self, status};
use crate::db::{instance, now};

pub const RESIZE: &str = "resize";
pub const MIGRATE: &str = "migrate";
/// A server rebuilt on another node while its own is down: `claim` ->
/// `ports` -> `build` (from its image: its disk stayed on the lost node),
/// then done at once — the claim the server's, the old node told to
/// destroy its guest when it is back.
pub const EVACUATE: &str = "evacuate";
pub const KINDS: &[&str] = &[RESIZE, MIGRATE, EVACUATE];

pub const CLAIM: &str = "claim";
pub const STOP: &str = "stop";
pub const EXPORT: &str = "export";
pub const PORTS: &str = "ports";
pub const BUILD: &str = "build";
pub const UNWIND: &str = "unwind";
/// An evacuated server built on its target: its claim and the lost
/// node's guest settled.
pub const SETTLE: &str = "settle";
/// The steps that wait for a node.
pub const WAITING: &[&str] = &[STOP, EXPORT, BUILD];

/// The event a move logs (Nova's).
pub fn event(kind: &str) -> &'static str {
    if kind == EVACUATE {
        "compute_rebuild_instance"
    } else {
        "compute_resize_instance"
    }
}

mod parts;
mod steps;
pub use parts::{abandon, deadline, destroy_on, drop_image, image_call, settle, start_data};
pub use steps::{claim, export, ports, set_flavor, unwind};

/// The saga's migration.
async fn of(ctx: &ServiceContext, saga: &Model) -> Result<migration::Model, Error> {
    let id = data(saga)["migration"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    migration::find(ctx.db(), &id)
        .await?
        .ok_or_else(|| Error::internal(format!("saga of {} names no migration", saga.instance_id)))
}

fn power_of(d: &Value) -> Power {
    match d["from"].as_str() {
        Some("stopped") => Power::Stopped,
        _ => Power::Running,
    }
}

/// The power a server's guest has in `vm_state` (a move starts from
/// active or stopped only).
pub fn power_name(vm_state: &str) -> &'static str {
    match power_in(vm_state) {
        Power::Stopped => "stopped",
        _ => "running",
    }
}

/// Moves the saga on (the server locked first), applying `edit` to the
/// server and `to` to the migration's status; false when the saga no
/// longer is where it was (a delete took over).
async fn advance(
    ctx: &ServiceContext,
    from: &Model,
    next: &Model,
    migration_status: Option<&str>,
    edit: impl FnOnce(&mut instance::Model),
) -> Result<Option<instance::Model>, Error> {
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let locked = instance::lock(&txn, &from.instance_id).await?;
    let (Some(mut m), true) = (locked, instance_saga::advance(&txn, from, next).await?) else {
        return Ok(None);
    };
    edit(&mut m);
    m.updated_at = now();
    let m = instance::update(&txn, m).await?;
    if let Some(to) = migration_status {
        let id = data(next)["migration"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        migration::set_status(&txn, &id, to).await?;
    }
    txn.commit().await.map_err(Error::internal)?;
    Ok(Some(m))
}

/// The sweeper's look at a waiting step: past the deadline it unwinds;
/// else a command this run has not sent goes again.
pub async fn waiting(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    if saga.deadline < Utc::now() {
        let why = format!(
            "the move did not finish within {} s",
            ctx.config().compute.build_timeout_secs
        );
        return unwind(ctx, saga, server, &why).await;
    }
    if !super::first_look(ctx, &server.id) {
        return Ok(());
    }
    let server_id = server.id.clone();
    let r = match saga.step.as_str() {
        STOP => steps::send_stop(ctx, &saga, &server).await,
        EXPORT => export(ctx, saga, server).await,
        _ => steps::send_build(ctx, &saga, &server).await,
    };
    if r.is_err() {
        super::forget(ctx, &server_id);
    }
    r
}

/// What a node reports of the server while its move waits for it.
pub async fn reported(ctx: &ServiceContext, saga: Model, s: &InstanceStatus) -> Result<(), Error> {
    let d = data(&saga);
    if (s.generation as i64) < d["generation"].as_i64().unwrap_or(0) {
        return Ok(());
    }
    let Some(server) = instance::find(ctx.db(), &saga.instance_id).await? else {
        return Ok(());
    };
    if s.failed || s.state == InstanceState::Error {
        let why = s
            .reason
            .clone()
            .unwrap_or_else(|| "the node failed it".into());
        return unwind(ctx, saga, server, &why).await;
    }
    match (saga.step.as_str(), s.state) {
        (STOP, InstanceState::Stopped) => {
            super::forget(ctx, &saga.instance_id);
            export_next(ctx, saga).await
        }
        (BUILD, st) => {
            let reached = matches!(
                (power_of(&d), st),
                (Power::Running, InstanceState::Running) | (Power::Stopped, InstanceState::Stopped)
            );
            if reached && saga.kind == EVACUATE {
                // Its own step first: a deadline passing meanwhile must
                // not unwind what the transfer below does.
                let next = row(
                    &saga.instance_id,
                    &saga.kind,
                    SETTLE,
                    d.clone(),
                    saga.deadline,
                );
                if advance(ctx, &saga, &next, None, |_| {}).await?.is_some() {
                    super::forget(ctx, &saga.instance_id);
                    evacuated(ctx, next).await?;
                }
            } else if reached {
                finished(ctx, saga).await?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn export_next(ctx: &ServiceContext, saga: Model) -> Result<(), Error> {
    let next = row(
        &saga.instance_id,
        &saga.kind,
        EXPORT,
        data(&saga),
        saga.deadline,
    );
    let edit = |m: &mut instance::Model| m.task_state = Some(task::RESIZE_MIGRATING.into());
    let Some(server) = advance(ctx, &saga, &next, Some(status::MIGRATING), edit).await? else {
        return Ok(());
    };
    super::first_look(ctx, &server.id);
    let id = server.id.clone();
    let r = export(ctx, next, server).await;
    if r.is_err() {
        super::forget(ctx, &id);
    }
    r
}

/// The source's node says how sending the disk went.
pub async fn exported(
    ctx: &ServiceContext,
    node: &str,
    instance_id: &str,
    reason: Option<&str>,
) -> Result<(), Error> {
    let Some(saga) = instance_saga::find(ctx.db(), instance_id).await? else {
        return Ok(());
    };
    let Some(server) = instance::find(ctx.db(), instance_id).await? else {
        return Ok(());
    };
    if !KINDS.contains(&saga.kind.as_str())
        || saga.step != EXPORT
        || server.node_id.as_deref() != Some(node)
    {
        return Ok(());
    }
    match reason {
        Some(why) => {
            unwind(
                ctx,
                saga,
                server,
                &format!("the disk could not be sent: {why}"),
            )
            .await
        }
        None => ports(ctx, saga, server).await,
    }
}

/// Built on the target: the server waits for a confirm or a revert.
async fn finished(ctx: &ServiceContext, saga: Model) -> Result<(), Error> {
    let Some((txn, mut m)) = super::finishing(ctx, &saga).await? else {
        return Ok(());
    };
    let d = data(&saga);
    m.vm_state = vm::RESIZED.into();
    m.task_state = None;
    m.power_state = match power_of(&d) {
        Power::Stopped => power::SHUTDOWN,
        _ => power::RUNNING,
    };
    m.updated_at = now();
    instance::update(&txn, m).await?;
    let id = d["migration"].as_str().unwrap_or_default();
    migration::set_status(&txn, id, status::FINISHED).await?;
    logged(&txn, &saga, Ok(())).await?;
    txn.commit().await.map_err(Error::internal)?;
    super::forget(ctx, &saga.instance_id);
    tracing::info!(instance = %saga.instance_id, migration = id, "server moved; waiting for a confirm");
    Ok(())
}

/// Rebuilt on the target: the claim there becomes the server's, the lost
/// node is told (its queue keeps it) to destroy its guest, done.
pub async fn evacuated(ctx: &ServiceContext, saga: Model) -> Result<(), Error> {
    let mig = of(ctx, &saga).await?;
    let Some(server) = instance::find(ctx.db(), &saga.instance_id).await? else {
        return Ok(());
    };
    super::transfer(ctx, &mig.uuid, &server.id).await?;
    destroy_on(ctx, &mig.source_node, &server.id, server.generation).await?;
    let Some((txn, mut m)) = super::finishing(ctx, &saga).await? else {
        return Ok(());
    };
    settle(&mut m, power_of(&data(&saga)));
    m.launched_at = Some(now());
    instance::update(&txn, m).await?;
    migration::set_status(&txn, &mig.uuid, status::DONE).await?;
    logged(&txn, &saga, Ok(())).await?;
    txn.commit().await.map_err(Error::internal)?;
    super::forget(ctx, &saga.instance_id);
    tracing::info!(instance = %saga.instance_id, migration = %mig.uuid, "server evacuated");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_remembers_the_power_it_restores() {
        let d = start_data("req-1", "m", vm::STOPPED, None);
        assert_eq!(power_of(&d), Power::Stopped);
        let d = start_data("req-1", "m", vm::ACTIVE, Some("n"));
        assert_eq!(power_of(&d), Power::Running);
        assert_eq!(d["host"], "n");
    }
}
