//! Servers' multi-step operations as sagas (omicron's sagas, Nova's
//! conductor): each step's progress is a row (`instance_saga`), moved on
//! only by a conditional update, so a step runs to completion once and a
//! restarted compute service resumes every saga where its row says, or
//! unwinds it.
//!
//! - **create**: `claim` (the scheduler chooses and claims a node for every
//!   server of the request at once, all or none, kept at once: a claim
//!   step run again releases first) -> `ports` (made or bound on the
//!   node, one by one) -> `spawn`
//!   (the generation is bumped and the node's agent told to
//!   run the server) -> `wait` (until the agent reports it running, or the
//!   build timeout). A failure unwinds: the guest is destroyed, the ports
//!   given back, the claim released, the server left in ERROR with its
//!   fault.
//! - **actions** the node carries out (start, stop, reboot, rebuild,
//!   pause, unpause): `wait` until the node reports the server as asked
//!   (see [`action`]).
//! - **moves** (resize, cold migration): `claim` -> `stop` -> `export`
//!   -> `ports` -> `build`, then VERIFY_RESIZE until a confirm or a
//!   revert (see [`migration`] and [`confirm`]).
//! - **delete**: `destroy` (the agent told to destroy the guest) -> `gone`
//!   (until the agent reports it deleted; never on silence) -> the ports
//!   and the claim given back and the server marked deleted. A delete takes over from a
//!   create in progress: the create's next step finds its row gone and
//!   undoes what it did.
//!
//! One compute service runs the sagas (a second would run them twice;
//! leases come with active-active compute).

pub mod action;
pub mod confirm;
pub mod create;
pub mod delete;
pub mod events;
pub mod migration;
pub mod ports;
pub mod spec;

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use virga_common::Error;
use virga_common::error::chain;
use virga_db::sea_orm::DatabaseTransaction;
use virga_protocol::agent::{AgentCommand, topic};
use virga_service::ServiceContext;
use virga_service::peer::{self, As, Method};

use crate::db::instance_saga::{self, Model};
use crate::db::{instance, instance_action, now};

pub const CREATE: &str = "create";
pub const DELETE: &str = "delete";

/// How often sagas that wait (for a node, for a peer to come back) are
/// looked at again.
const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// A saga whose row has not moved for this long is no longer being driven
/// by the request that started it (its step failed, to be retried).
const STALE: Duration = Duration::from_secs(5);

/// The servers whose saga a task of this process is driving now.
#[derive(Default)]
struct InFlight(Mutex<HashSet<String>>);

/// Marks `ids` as driven here; returns those that were not already.
fn take(ctx: &ServiceContext, ids: &[String]) -> Vec<String> {
    let f = ctx.local::<InFlight>();
    let mut held = f.0.lock().unwrap_or_else(|e| e.into_inner());
    ids.iter()
        .filter(|id| held.insert((*id).clone()))
        .cloned()
        .collect()
}

fn put_back(ctx: &ServiceContext, ids: &[String]) {
    let f = ctx.local::<InFlight>();
    let mut held = f.0.lock().unwrap_or_else(|e| e.into_inner());
    for id in ids {
        held.remove(id);
    }
}

/// Waiting sagas whose command (ensure, delete) this run of the service
/// has sent: a restarted one sends each once more.
#[derive(Default)]
struct Seen(Mutex<HashSet<String>>);

/// Whether this is the first look of this run at the waiting saga of
/// `id` (marking it seen).
pub fn first_look(ctx: &ServiceContext, id: &str) -> bool {
    let s = ctx.local::<Seen>();
    let mut seen = s.0.lock().unwrap_or_else(|e| e.into_inner());
    seen.insert(id.to_owned())
}

/// The saga of `id` ended: no more looks to remember.
pub fn forget(ctx: &ServiceContext, id: &str) {
    let s = ctx.local::<Seen>();
    s.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
}

/// Servers accepted by this process whose claim was never tried: no
/// claim of theirs can exist, so the first try need not release one.
#[derive(Default)]
struct Fresh(Mutex<HashSet<String>>);

/// Marks `ids` as just accepted.
pub fn fresh(ctx: &ServiceContext, ids: &[String]) {
    let f = ctx.local::<Fresh>();
    let mut held = f.0.lock().unwrap_or_else(|e| e.into_inner());
    held.extend(ids.iter().cloned());
}

/// Whether every one of `ids` is still untried (forgetting them: a
/// second try releases first, as the first may have claimed).
pub fn untried(ctx: &ServiceContext, ids: &[String]) -> bool {
    let f = ctx.local::<Fresh>();
    let mut held = f.0.lock().unwrap_or_else(|e| e.into_inner());
    let mut all = true;
    for id in ids {
        all &= held.remove(id);
    }
    all
}

/// Starts the sweeper: at start (resuming every saga a previous run
/// left) and every [`SWEEP_EVERY`] after (sagas that stopped moving: a
/// step that failed and is retried, a wait that may have timed out).
pub fn start(ctx: &ServiceContext) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let mut all = true;
        loop {
            if let Err(e) = sweep(&ctx, all).await {
                tracing::warn!(error = %chain(&e), "saga sweep failed");
            }
            all = false;
            tokio::select! {
                _ = ctx.shutdown().cancelled() => return,
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
    });
}

/// Drives the sagas of `ids` now (a request just started them).
pub fn kick(ctx: &ServiceContext, ids: Vec<String>) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let ids = take(&ctx, &ids);
        if ids.is_empty() {
            return;
        }
        drive(&ctx, &ids).await;
        put_back(&ctx, &ids);
    });
}

/// Kicks the sagas that need it (`all`: every one), each request's claims
/// together, every other saga on its own task: one slow node or peer
/// holds up only its own.
async fn sweep(ctx: &ServiceContext, all: bool) -> Result<(), Error> {
    let quiet = chrono::Utc::now() - chrono::Duration::from_std(STALE).unwrap_or_default();
    let mut claims: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for saga in instance_saga::all(ctx.db()).await? {
        let waiting = matches!(saga.step.as_str(), create::WAIT | delete::GONE)
            || (migration::KINDS.contains(&saga.kind.as_str())
                && migration::WAITING.contains(&saga.step.as_str()))
            || (saga.kind == confirm::REVERT && saga.step == confirm::WAIT);
        if !(all || waiting || saga.updated_at < quiet) {
            continue;
        }
        if saga.kind == CREATE && saga.step == create::CLAIM {
            if let Some(server) = instance::find(ctx.db(), &saga.instance_id).await? {
                claims
                    .entry(server.reservation_id)
                    .or_default()
                    .push(saga.instance_id);
            }
            continue;
        }
        kick(ctx, vec![saga.instance_id]);
    }
    for (_, ids) in claims {
        kick(ctx, ids);
    }
    Ok(())
}

/// Runs the sagas of `ids` as far as they go without waiting for a node:
/// claims batched by request (all or none), every other step alone.
async fn drive(ctx: &ServiceContext, ids: &[String]) {
    let mut claims: BTreeMap<String, Vec<(Model, instance::Model)>> = BTreeMap::new();
    for id in ids {
        let (Ok(Some(saga)), Ok(Some(server))) = (
            instance_saga::find(ctx.db(), id).await,
            instance::find(ctx.db(), id).await,
        ) else {
            continue;
        };
        if saga.kind == CREATE && saga.step == create::CLAIM {
            claims
                .entry(server.reservation_id.clone())
                .or_default()
                .push((saga, server));
            continue;
        }
        if let Err(e) = step(ctx, saga, server).await {
            tracing::warn!(instance = %id, error = %chain(&e), "saga step failed; retried later");
        }
    }
    for (_, batch) in claims {
        if let Err(e) = create::claim(ctx, batch).await {
            tracing::warn!(error = %chain(&e), "claim failed; retried later");
        }
    }
}

/// One saga, from its current step until it waits or ends.
async fn step(ctx: &ServiceContext, saga: Model, server: instance::Model) -> Result<(), Error> {
    match (saga.kind.as_str(), saga.step.as_str()) {
        (CREATE, create::CONFIRM) => create::confirm(ctx, saga, server).await,
        (CREATE, ports::PORTS) => ports::ports(ctx, saga, server).await,
        (CREATE, create::SPAWN) => create::spawn(ctx, saga, server).await,
        (CREATE, create::WAIT) => create::waiting(ctx, saga, server).await,
        (DELETE, delete::DESTROY) => delete::destroy(ctx, saga, server).await,
        (DELETE, delete::GONE) => delete::waiting(ctx, saga, server).await,
        (kind, action::WAIT) if action::KINDS.contains(&kind) => {
            action::waiting(ctx, saga, server).await
        }
        (kind, step) if migration::KINDS.contains(&kind) => match step {
            migration::CLAIM => migration::claim(ctx, saga, server).await,
            migration::PORTS => migration::ports(ctx, saga, server).await,
            migration::UNWIND => migration::unwind(ctx, saga, server, "").await,
            migration::SETTLE => migration::evacuated(ctx, saga).await,
            _ => migration::waiting(ctx, saga, server).await,
        },
        (confirm::CONFIRM, _) => confirm::confirm(ctx, saga, server).await,
        (confirm::REVERT, confirm::REVERTING) => confirm::revert(ctx, saga, server).await,
        (confirm::REVERT, confirm::WAIT) => confirm::waiting(ctx, saga, server).await,
        (kind, step) => {
            tracing::error!(instance = %saga.instance_id, kind, step, "unknown saga step");
            Ok(())
        }
    }
}

/// The row for `step`, with `data`, giving up at `deadline`.
pub fn row(instance: &str, kind: &str, step: &str, data: Value, deadline: DateTime<Utc>) -> Model {
    Model {
        instance_id: instance.to_owned(),
        kind: kind.to_owned(),
        step: step.to_owned(),
        data: data.to_string(),
        deadline,
        updated_at: now(),
    }
}

/// A deadline that does not come (steps that wait for a node that is
/// never given up on).
pub fn never() -> DateTime<Utc> {
    DateTime::<Utc>::MAX_UTC
}

/// A writing transaction with the server locked and its saga ended, while
/// the saga is still at its step (the server locked first, as every
/// writer does); `None` when another operation took over or the step
/// already moved on: nothing left to do.
pub async fn finishing(
    ctx: &ServiceContext,
    saga: &Model,
) -> Result<Option<(DatabaseTransaction, instance::Model)>, Error> {
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let locked = instance::lock(&txn, &saga.instance_id).await?;
    Ok(match (locked, instance_saga::finish(&txn, saga).await?) {
        (Some(m), true) => Some((txn, m)),
        _ => None,
    })
}

/// Ends the saga's event in the instance actions log (the action its
/// `request_id` names), with what went wrong if it failed.
pub async fn logged(
    db: &impl virga_db::sea_orm::ConnectionTrait,
    saga: &Model,
    outcome: Result<(), &str>,
) -> Result<(), Error> {
    match data(saga)["request_id"].as_str() {
        Some(rid) => instance_action::finish(db, &saga.instance_id, rid, outcome).await,
        None => Ok(()),
    }
}

pub fn data(saga: &Model) -> Value {
    serde_json::from_str(&saga.data).unwrap_or_else(|_| json!({}))
}

/// Gives the claims of `consumers` back; an unreachable scheduler is an
/// error (retried), a claim already gone is not.
pub async fn release(ctx: &ServiceContext, consumers: &[String]) -> Result<(), Error> {
    let r = peer::call(
        ctx,
        As::Service,
        "placement",
        Method::POST,
        "/scheduler/v1/release",
        Some(&json!({ "consumers": consumers })),
        &[],
    )
    .await?;
    match r.status {
        200..=299 | 404 => Ok(()),
        s => Err(Error::Unavailable(format!(
            "the scheduler refused a release ({s}): {}",
            r.body
        ))),
    }
}

/// Makes the claim `from` holds `to`'s (the scheduler's `transfer`: a
/// move's target claim becomes the server's own).
pub async fn transfer(ctx: &ServiceContext, from: &str, to: &str) -> Result<(), Error> {
    let body = json!({"from": from, "to": to});
    let path = "/scheduler/v1/transfer";
    let r = peer::call(
        ctx,
        As::Service,
        "placement",
        Method::POST,
        path,
        Some(&body),
        &[],
    )
    .await?;
    match r.status {
        200..=299 => Ok(()),
        s => Err(Error::Unavailable(format!(
            "the scheduler answered {s} to a transfer: {}",
            r.body
        ))),
    }
}

/// Sends `node` the server's `ensure` with `power`, at the generation
/// the saga reserved (the record's when it holds none), then asks for a
/// full report: a guest already as asked has nothing to say but in one.
pub async fn ensure_and_report(
    ctx: &ServiceContext,
    node: &str,
    saga: &Model,
    server: &instance::Model,
    power: virga_protocol::agent::Power,
) -> Result<(), Error> {
    let g = data(saga)["generation"]
        .as_i64()
        .unwrap_or(server.generation);
    tell(ctx, node, &spec::ensure(ctx, server, g, power).await?).await?;
    let request_id = format!("req-{}", uuid::Uuid::new_v4());
    tell(ctx, node, &AgentCommand::Report { request_id }).await
}

/// Casts `cmd` to the node's agent (its durable queue: a node that is
/// down or cut off gets it when it is back).
pub async fn tell(ctx: &ServiceContext, node: &str, cmd: &AgentCommand) -> Result<(), Error> {
    let (method, args) = virga_protocol::to_parts(cmd);
    ctx.bus()
        .declare(&topic(node))
        .await
        .map_err(|e| Error::Unavailable(format!("the bus is unavailable: {e}")))?;
    ctx.bus()
        .cast(&topic(node), &method, args, &virga_bus::Context::default())
        .await
        .map_err(|e| Error::Unavailable(format!("the bus is unavailable: {e}")))
}
