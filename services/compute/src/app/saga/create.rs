//! The create saga's steps: claim -> confirm -> spawn -> wait, and the
//! unwinding of a build that failed.

use chrono::Utc;
use serde_json::{Map, Value, json};
use virga_common::Error;
use virga_protocol::agent::{AgentCommand, Power};
use virga_service::ServiceContext;
use virga_service::peer::{self, As, Method};

use super::spec::ensure;
use super::{CREATE, data, release, row, tell};
use crate::app::server_state::{power, task, vm};
use crate::db::instance_saga::{self, Model};
use crate::db::{instance, now, server_group};

pub const CLAIM: &str = "claim";
pub const CONFIRM: &str = "confirm";
pub const SPAWN: &str = "spawn";
pub const WAIT: &str = "wait";

/// The create's event in the instance actions log (Nova's name).
pub const EVENT: &str = "compute__do_build_and_run_instance";

/// Nova's fault message when no node fits.
pub const NO_VALID_HOST: &str = "No valid host was found. ";

/// The scheduler's request for the servers of one create request (same
/// flavor, image, site and group): `resources`, the flavor's `trait:`
/// extra specs, the site asked for, the group's policy.
pub(crate) async fn select_body(
    ctx: &ServiceContext,
    ids: &[String],
    first: &instance::Model,
    site: Option<&str>,
    near: Option<&Value>,
) -> Result<Value, Error> {
    let mut resources = Map::new();
    resources.insert("VCPU".into(), json!(first.vcpus));
    resources.insert("MEMORY_MB".into(), json!(first.memory_mb));
    if first.root_gb > 0 {
        resources.insert("DISK_GB".into(), json!(first.root_gb));
    }
    let flavor: Value = serde_json::from_str(&first.flavor).unwrap_or(Value::Null);
    let (mut required, mut forbidden) = (vec![], vec![]);
    if let Some(specs) = flavor["extra_specs"].as_object() {
        for (k, v) in specs {
            match (k.strip_prefix("trait:"), v.as_str()) {
                (Some(t), Some("required")) => required.push(t.to_owned()),
                (Some(t), Some("forbidden")) => forbidden.push(t.to_owned()),
                _ => {}
            }
            if let (Some(class), Some(n)) = (
                k.strip_prefix("resources:"),
                v.as_str().and_then(|n| n.parse::<i64>().ok()),
            ) {
                resources.insert(class.to_owned(), json!(n));
            }
        }
    }
    let mut body = json!({
        "consumers": ids,
        "project_id": first.project_id,
        "user_id": first.user_id,
        "resources": resources,
        "required_traits": required,
        "forbidden_traits": forbidden,
        "image_id": first.image_id,
    });
    if let Some(s) = site {
        body["sites"] = json!([s]);
    }
    if let Some(near) = near.filter(|n| n.is_object()) {
        body["near"] = near.clone();
    }
    if let Some(g) = &first.server_group_id
        && let Some(group) = server_group::find(ctx.db(), g).await?
    {
        body["group"] = json!({"id": g, "policy": group.policy});
    }
    Ok(body)
}

/// Chooses and claims nodes for a create request's servers, all or none.
pub async fn claim(
    ctx: &ServiceContext,
    batch: Vec<(Model, instance::Model)>,
) -> Result<(), Error> {
    let ids: Vec<String> = batch.iter().map(|(s, _)| s.instance_id.clone()).collect();
    // A claim made before a crash (or by a try that failed) is given
    // back, then made again.
    if !super::untried(ctx, &ids) {
        release(ctx, &ids).await?;
    }
    let (first_saga, first) = &batch[0];
    let site = data(first_saga)["site"].as_str().map(str::to_owned);
    let d = data(first_saga);
    let mut body = select_body(ctx, &ids, first, site.as_deref(), Some(&d["near"])).await?;
    // Kept at once: the node is recorded in the saga right after, and a
    // claim step run again (after a crash) releases before selecting.
    body["confirmed"] = json!(true);
    let r = peer::call(
        ctx,
        As::Service,
        "placement",
        Method::POST,
        "/scheduler/v1/select",
        Some(&body),
        &[],
    )
    .await;
    let r = match r {
        Ok(r) => r,
        Err(e) if first_saga.deadline < Utc::now() => {
            let why = format!("the scheduler did not answer: {e}");
            for (saga, server) in batch {
                fail(ctx, saga, server, NO_VALID_HOST, &why, false).await?;
            }
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    match r.status {
        200 => {}
        400 | 409 => {
            let why = r.body.to_string();
            tracing::warn!(instances = ?ids, reason = %why, "no valid host");
            for (saga, server) in batch {
                fail(ctx, saga, server, NO_VALID_HOST, &why, false).await?;
            }
            return Ok(());
        }
        s => {
            return Err(Error::Unavailable(format!(
                "the scheduler answered {s}: {}",
                r.body
            )));
        }
    }
    let selections = r.body["selections"].as_array().cloned().unwrap_or_default();
    for (saga, server) in batch {
        let Some(sel) = selections
            .iter()
            .find(|s| s["consumer_id"] == server.id.as_str())
        else {
            continue;
        };
        let node = sel["node"].as_str().unwrap_or_default().to_owned();
        let site = sel["site"].as_str().unwrap_or_default().to_owned();
        let mut d = data(&saga);
        d["node"] = json!(node);
        d["site"] = json!(site);
        let next = row(&server.id, CREATE, super::ports::PORTS, d, saga.deadline);
        let txn = virga_db::begin_write(ctx.db())
            .await
            .map_err(Error::internal)?;
        let locked = instance::lock(&txn, &server.id).await?;
        let (Some(mut m), true) = (locked, instance_saga::advance(&txn, &saga, &next).await?)
        else {
            drop(txn);
            release(ctx, std::slice::from_ref(&server.id)).await?;
            continue;
        };
        m.node_id = Some(node);
        m.site_id = Some(site);
        m.updated_at = now();
        instance::update(&txn, m.clone()).await?;
        txn.commit().await.map_err(Error::internal)?;
        if let Err(e) = super::ports::ports(ctx, next, m).await {
            tracing::warn!(instance = %server.id, error = %virga_common::error::chain(&e), "ports failed; retried later");
        }
    }
    Ok(())
}

/// Keeps the claim (it would expire otherwise); an expired one is made
/// again. Claims are now made kept; a saga a previous version left at
/// this step still passes through it.
pub async fn confirm(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    let r = peer::call(
        ctx,
        As::Service,
        "placement",
        Method::POST,
        "/scheduler/v1/confirm",
        Some(&json!({"consumers": [server.id]})),
        &[],
    )
    .await?;
    let step = match r.status {
        200..=299 => super::ports::PORTS,
        404 => CLAIM,
        s => {
            return Err(Error::Unavailable(format!(
                "the scheduler answered {s} to a confirm: {}",
                r.body
            )));
        }
    };
    let next = row(&server.id, CREATE, step, data(&saga), saga.deadline);
    if !instance_saga::advance(ctx.db(), &saga, &next).await? || step == CLAIM {
        return Ok(());
    }
    super::ports::ports(ctx, next, server).await
}

/// Tells the node's agent to run the server. The saga waits before the
/// command leaves, so no report can come before it is waited for; the
/// generation is bumped only while the create still holds the server (a
/// delete that took over sends a newer one).
pub async fn spawn(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    let Some(node) = server.node_id.clone() else {
        return fail(ctx, saga, server, NO_VALID_HOST, "no node", true).await;
    };
    let mut d = data(&saga);
    let generation = server.generation + 1;
    let cmd = ensure(ctx, &server, generation, Power::Running).await?;
    d["generation"] = json!(generation);
    let timeout = chrono::Duration::seconds(
        i64::try_from(ctx.config().compute.build_timeout_secs).unwrap_or(i64::MAX),
    );
    let next = row(&server.id, CREATE, WAIT, d, Utc::now() + timeout);
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let locked = instance::lock(&txn, &server.id).await?;
    let (Some(mut m), true) = (locked, instance_saga::advance(&txn, &saga, &next).await?) else {
        return Ok(());
    };
    if m.generation + 1 != generation {
        // Someone else moved the server on since it was read: retried.
        return Err(Error::Unavailable("the server changed meanwhile".into()));
    }
    m.generation = generation;
    m.task_state = Some(task::SPAWNING.into());
    m.updated_at = now();
    instance::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    tell(ctx, &node, &cmd).await?;
    super::first_look(ctx, &saga.instance_id);
    Ok(())
}

/// A waiting build past its deadline fails. One this run of the service
/// has not seen sent (it was restarted, or the send failed) is sent again
/// (the same generation: a node that has it changes nothing), and the
/// node asked for a full report, in case its answer came while compute
/// was down.
pub async fn waiting(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
) -> Result<(), Error> {
    if saga.deadline >= Utc::now() {
        if let Some(node) = &server.node_id
            && super::first_look(ctx, &server.id)
        {
            let resent = super::ensure_and_report(ctx, node, &saga, &server, Power::Running);
            if let Err(e) = resent.await {
                super::forget(ctx, &server.id);
                return Err(e);
            }
        }
        return Ok(());
    }
    let why = format!(
        "Build of instance {} aborted: the node did not report it running within {} s",
        server.id,
        ctx.config().compute.build_timeout_secs
    );
    fail(ctx, saga, server, &why, "", true).await
}

/// The node reports the server running: the build is done.
pub async fn built(ctx: &ServiceContext, saga: Model) -> Result<(), Error> {
    let Some((txn, mut m)) = super::finishing(ctx, &saga).await? else {
        return Ok(());
    };
    m.vm_state = vm::ACTIVE.into();
    m.task_state = None;
    m.power_state = power::RUNNING;
    m.launched_at = Some(now());
    m.updated_at = now();
    instance::update(&txn, m).await?;
    super::logged(&txn, &saga, Ok(())).await?;
    txn.commit().await.map_err(Error::internal)?;
    super::forget(ctx, &saga.instance_id);
    Ok(())
}

/// Unwinds a build: the node told to destroy what it made (when one was
/// chosen and `on_node`), the claim released, the server left in ERROR
/// with Nova's fault (`details` are for admins).
pub async fn fail(
    ctx: &ServiceContext,
    saga: Model,
    server: instance::Model,
    message: &str,
    details: &str,
    on_node: bool,
) -> Result<(), Error> {
    if on_node && let Some(node) = &server.node_id {
        let txn = virga_db::begin_write(ctx.db())
            .await
            .map_err(Error::internal)?;
        instance::lock(&txn, &server.id).await?;
        let generation = instance::next_generation(&txn, &server.id).await?;
        txn.commit().await.map_err(Error::internal)?;
        let cmd = AgentCommand::Delete {
            request_id: format!("req-{}", uuid::Uuid::new_v4()),
            instance: server.id.clone(),
            generation: u64::try_from(generation).unwrap_or(0),
        };
        tell(ctx, node, &cmd).await?;
    }
    super::ports::give_back(ctx, &server).await?;
    release(ctx, std::slice::from_ref(&server.id)).await?;
    let Some((txn, mut m)) = super::finishing(ctx, &saga).await? else {
        return Ok(());
    };
    m.vm_state = vm::ERROR.into();
    m.task_state = None;
    m.power_state = power::NOSTATE;
    m.fault = Some(
        json!({"code": 500, "message": message, "details": details,
               "created": crate::http::nova_time(&now())})
        .to_string(),
    );
    m.updated_at = now();
    instance::update(&txn, m).await?;
    let why = if details.is_empty() { message } else { details };
    super::logged(&txn, &saga, Err(why)).await?;
    txn.commit().await.map_err(Error::internal)?;
    super::forget(ctx, &saga.instance_id);
    tracing::warn!(instance = %saga.instance_id, message, details, "build failed");
    Ok(())
}
