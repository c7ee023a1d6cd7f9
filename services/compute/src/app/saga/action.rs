//! The sagas of server actions that the node carries out (start, stop,
//! reboot, rebuild, pause, unpause): one step, `wait`. The request that
//! accepts the action sets the task state, bumps the generation and
//! writes the saga in one transaction, then tells the node; the saga ends
//! when the node reports the instance as asked at that generation (or
//! newer), or that it could not. A node that is cut off keeps the server
//! in its task state: its queue holds the command, and the server is never
//! shown as done on silence. A restarted compute service sends each
//! waiting command once more.
//!
//! A power change the node refuses is undone: the server keeps its state
//! and the node is told its previous power again (a newer generation). A
//! rebuild that fails leaves the server in ERROR with the fault, as Nova's.

use serde_json::{Value, json};
use virga_common::Error;
use virga_protocol::agent::{AgentCommand, InstanceState, InstanceStatus, Power};
use virga_service::ServiceContext;

use super::spec::ensure;
use super::{data, logged, tell};
use crate::app::server_state::{power, vm};
use crate::db::instance_saga::Model;
use crate::db::{instance, now};

pub const START: &str = "start";
pub const STOP: &str = "stop";
pub const REBOOT: &str = "reboot";
pub const REBUILD: &str = "rebuild";
pub const PAUSE: &str = "pause";
pub const UNPAUSE: &str = "unpause";
pub const KINDS: &[&str] = &[START, STOP, REBOOT, REBUILD, PAUSE, UNPAUSE];

pub const WAIT: &str = "wait";

/// The event each action logs (Nova's names).
pub fn event(kind: &str) -> String {
    format!("compute_{kind}_instance")
}

fn power_name(p: Power) -> &'static str {
    match p {
        Power::Running => "running",
        Power::Stopped => "stopped",
        Power::Paused => "paused",
    }
}

fn power_of(v: &Value) -> Power {
    match v.as_str() {
        Some("stopped") => Power::Stopped,
        Some("paused") => Power::Paused,
        _ => Power::Running,
    }
}

/// The power a server in `vm_state` has on its node.
pub fn power_in(vm_state: &str) -> Power {
    match vm_state {
        vm::STOPPED => Power::Stopped,
        vm::PAUSED => Power::Paused,
        _ => Power::Running,
    }
}

/// The saga's data: the request, the generation the node is sent, the
/// power it ends in (`to`) and the one before (`from`, what an undo
/// restores), and for a reboot whether it is hard.
pub fn start_data(request_id: &str, generation: i64, from: Power, to: Power, hard: bool) -> Value {
    json!({
        "request_id": request_id, "generation": generation,
        "from": power_name(from), "to": power_name(to), "hard": hard,
    })
}

/// Tells the node (again, with the same generation: a node that has it
/// changes nothing), and marks the saga sent in this run.
pub async fn send(
    ctx: &ServiceContext,
    saga: &Model,
    server: &instance::Model,
) -> Result<(), Error> {
    let Some(node) = &server.node_id else {
        return Ok(());
    };
    let d = data(saga);
    let generation = d["generation"].as_i64().unwrap_or(server.generation);
    super::first_look(ctx, &server.id);
    let sent = async {
        let cmd = if saga.kind == REBOOT {
            AgentCommand::Reboot {
                request_id: format!("req-{}", uuid::Uuid::new_v4()),
                instance: server.id.clone(),
                generation: u64::try_from(generation).unwrap_or(0),
                hard: d["hard"].as_bool().unwrap_or(false),
            }
        } else {
            ensure(ctx, server, generation, power_of(&d["to"])).await?
        };
        tell(ctx, node, &cmd).await?;
        // A node already as asked has nothing to say but in a full report.
        if saga.kind != REBOOT && saga.kind != REBUILD {
            let request_id = format!("req-{}", uuid::Uuid::new_v4());
            tell(ctx, node, &AgentCommand::Report { request_id }).await?;
        }
        Ok(())
    };
    let r: Result<(), Error> = sent.await;
    if r.is_err() {
        super::forget(ctx, &server.id);
    }
    r
}

/// The sweeper's look: a command this run has not sent goes again.
pub async fn waiting(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    if !super::first_look(ctx, &server.id) {
        return Ok(());
    }
    send(ctx, &saga, &server).await
}

/// What the node reports of the server while the action waits.
pub async fn reported(ctx: &ServiceContext, saga: Model, s: &InstanceStatus) -> Result<(), Error> {
    let d = data(&saga);
    if (s.generation as i64) < d["generation"].as_i64().unwrap_or(0) {
        return Ok(());
    }
    let to = power_of(&d["to"]);
    let reached = matches!(
        (to, s.state),
        (Power::Running, InstanceState::Running)
            | (Power::Stopped, InstanceState::Stopped)
            | (Power::Paused, InstanceState::Paused)
    );
    if reached && !s.failed {
        return done(ctx, saga, to).await;
    }
    if s.failed || s.state == InstanceState::Error {
        let why = s
            .reason
            .clone()
            .unwrap_or_else(|| "the node failed it".into());
        return failed(ctx, saga, &why).await;
    }
    Ok(())
}

async fn done(ctx: &ServiceContext, saga: Model, to: Power) -> Result<(), Error> {
    let Some((txn, mut m)) = super::finishing(ctx, &saga).await? else {
        return Ok(());
    };
    (m.vm_state, m.power_state) = match to {
        Power::Running => (vm::ACTIVE.to_owned(), power::RUNNING),
        Power::Stopped => (vm::STOPPED.to_owned(), power::SHUTDOWN),
        Power::Paused => (vm::PAUSED.to_owned(), power::PAUSED),
    };
    m.task_state = None;
    m.updated_at = now();
    if saga.kind == REBUILD {
        m.launched_at = Some(m.updated_at);
    }
    instance::update(&txn, m).await?;
    logged(&txn, &saga, Ok(())).await?;
    txn.commit().await.map_err(Error::internal)?;
    super::forget(ctx, &saga.instance_id);
    tracing::info!(instance = %saga.instance_id, action = %saga.kind, "server action done");
    Ok(())
}

async fn failed(ctx: &ServiceContext, saga: Model, why: &str) -> Result<(), Error> {
    let d = data(&saga);
    let undo = !matches!(saga.kind.as_str(), REBOOT | REBUILD);
    let Some((txn, mut m)) = super::finishing(ctx, &saga).await? else {
        return Ok(());
    };
    m.task_state = None;
    m.updated_at = now();
    if saga.kind == REBUILD {
        m.vm_state = vm::ERROR.into();
        m.power_state = power::NOSTATE;
        let message = format!("Rebuild of instance {} failed: {why}", m.id);
        m.fault = Some(
            json!({"code": 500, "message": message, "details": why,
                   "created": crate::http::nova_time(&m.updated_at)})
            .to_string(),
        );
    }
    if undo {
        m.generation += 1;
    }
    let m = instance::update(&txn, m).await?;
    logged(&txn, &saga, Err(why)).await?;
    txn.commit().await.map_err(Error::internal)?;
    super::forget(ctx, &saga.instance_id);
    tracing::warn!(instance = %saga.instance_id, action = %saga.kind, reason = why, "server action failed");
    if undo && let Some(node) = &m.node_id {
        // The node keeps retrying what it was last told: tell it the
        // state the server keeps. Lost, the next action says it again.
        let cmd = ensure(ctx, &m, m.generation, power_of(&d["from"])).await?;
        tell(ctx, node, &cmd).await?;
    }
    Ok(())
}
