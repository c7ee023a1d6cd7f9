//! Moving a server to another node: `resize` (to a new flavor, the
//! project's) and `migrate` (the same flavor, an operator's, to any node
//! or the one named), checked and accepted here and carried out by the
//! move saga (`saga::migration`); `confirmResize` and `revertResize` end
//! a move waiting in VERIFY_RESIZE (`saga::confirm`); `evacuate` rebuilds
//! a server whose node is down on another. A move always goes to another
//! node, as Nova's default (`allow_resize_to_same_host` off).

use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::flavor::is_admin;
use super::saga::{self, confirm, migration};
use super::server::{asked, fitting, flavor_doc, lock_live, request_id, target};
use super::server_state::{self, Action, task};
use super::{flavor, quota_set, site};
use crate::db::instance::{self, Model};
use crate::db::migration as db;
use crate::db::{instance_action, instance_saga, now};

fn bad(message: impl Into<String>) -> Error {
    Error::BadRequest(message.into())
}

/// What a move records of a flavor: the document the server keeps and
/// the sizes it is scheduled by.
fn flavor_of(id: &str, doc: &Value, vcpus: i64, memory_mb: i64, root_gb: i64) -> Value {
    json!({"id": id, "flavor": doc, "vcpus": vcpus, "memory_mb": memory_mb, "root_gb": root_gb})
}

fn current(m: &Model) -> Value {
    let doc: Value = serde_json::from_str(&m.flavor).unwrap_or(Value::Null);
    flavor_of(
        &m.flavor_id,
        &doc,
        i64::from(m.vcpus),
        m.memory_mb,
        i64::from(m.root_gb),
    )
}

/// `resize`: 400 for an unknown or disabled flavor, the same flavor, or
/// a smaller root disk; 403 when the larger flavor is over quota.
pub async fn resize(
    ctx: &ServiceContext,
    auth: &Auth,
    seen: &Model,
    flavor_ref: &str,
) -> Result<(), Error> {
    auth.enforce("os_compute_api:servers:resize", &target(&seen.project_id))?;
    let fl = flavor::visible(ctx, auth, flavor_ref)
        .await
        .map_err(|_| bad("Unable to locate requested flavor."))?;
    if fl.disabled {
        return Err(bad("Flavor is disabled."));
    }
    if fl.id == seen.flavor_id {
        return Err(bad("When resizing, instances must change flavor!"));
    }
    if fl.root_gb != 0 && fl.root_gb < seen.root_gb {
        return Err(bad("Resize to a smaller disk flavor is not allowed."));
    }
    let limits = quota_set::limits(ctx, &seen.project_id).await?;
    let used = instance::usage(ctx.db(), &seen.project_id).await?;
    let more = (
        0,
        (i64::from(fl.vcpus) - i64::from(seen.vcpus)).max(0),
        (i64::from(fl.memory_mb) - seen.memory_mb).max(0),
    );
    fitting(&limits, used, more, (1, 1))?;
    let doc = flavor_doc(ctx, &fl).await?;
    let new = flavor_of(
        &fl.id,
        &doc,
        i64::from(fl.vcpus),
        i64::from(fl.memory_mb),
        i64::from(fl.root_gb),
    );
    start(ctx, auth, seen, Action::Resize, new, None).await
}

/// The uuid of the node `host` names (its hostname or uuid): 400 when
/// none does or it is the server's own.
async fn target_node(ctx: &ServiceContext, seen: &Model, host: &str) -> Result<String, Error> {
    let nodes = site::nodes(ctx).await?;
    let found = nodes
        .iter()
        .find(|n| n["hostname"] == host || n["uuid"] == host)
        .and_then(|n| n["uuid"].as_str())
        .ok_or_else(|| bad(format!("Compute host {host} could not be found.")))?;
    if seen.node_id.as_deref() == Some(found) {
        return Err(bad("The target host can't be the same one."));
    }
    Ok(found.to_owned())
}

/// `migrate`: to the node named by `host` (its hostname or uuid; 400 when
/// unknown or the server's own), else wherever the scheduler chooses.
pub async fn migrate(
    ctx: &ServiceContext,
    auth: &Auth,
    seen: &Model,
    host: Option<&str>,
) -> Result<(), Error> {
    let t = target(&seen.project_id);
    auth.enforce("os_compute_api:os-migrate-server:migrate", &t)?;
    let node = match host {
        None => None,
        Some(h) => {
            auth.enforce("os_compute_api:os-migrate-server:migrate:host", &t)?;
            Some(target_node(ctx, seen, h).await?)
        }
    };
    start(ctx, auth, seen, Action::Migrate, current(seen), node).await
}

/// `evacuate`: the server's node is down (409 while it is up, as Nova's
/// "still in use"); it is rebuilt from its image on the node named, or
/// the scheduler's choice. The node, when back, is told to destroy its
/// guest.
pub async fn evacuate(
    ctx: &ServiceContext,
    auth: &Auth,
    seen: &Model,
    host: Option<&str>,
) -> Result<(), Error> {
    auth.enforce("os_compute_api:os-evacuate", &target(&seen.project_id))?;
    let nodes = site::nodes(ctx).await?;
    if let Some(n) = nodes
        .iter()
        .find(|n| seen.node_id.as_deref() == n["uuid"].as_str())
        && n["state"] != "down"
    {
        let name = n["hostname"].as_str().unwrap_or_default();
        return Err(Error::Conflict(format!(
            "Compute service of {name} is still in use."
        )));
    }
    let node = match host {
        None => None,
        Some(h) => Some(target_node(ctx, seen, h).await?),
    };
    start(ctx, auth, seen, Action::Evacuate, current(seen), node).await
}

/// Accepts a move in one transaction: the migration, the saga, the task
/// state and the actions log; then the saga is driven.
async fn start(
    ctx: &ServiceContext,
    auth: &Auth,
    seen: &Model,
    a: Action,
    new_flavor: Value,
    host: Option<String>,
) -> Result<(), Error> {
    let (kind, mtype, name, t) = match a {
        Action::Resize => (migration::RESIZE, db::RESIZE, "resize", task::RESIZE_PREP),
        Action::Evacuate => (
            migration::EVACUATE,
            db::EVACUATION,
            "evacuate",
            task::REBUILDING,
        ),
        _ => (
            migration::MIGRATE,
            db::MIGRATION,
            "migrate",
            task::RESIZE_PREP,
        ),
    };
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let mut m = lock_live(&txn, &seen.id).await?;
    server_state::check_lock(&m, is_admin(auth))?;
    server_state::check(&m, a)?;
    let Some(source) = m.node_id.clone() else {
        return Err(Error::Conflict(format!("Instance {} has no node", m.id)));
    };
    let at = now();
    let mig = db::insert(
        &txn,
        db::Model {
            id: 0,
            uuid: uuid::Uuid::new_v4().to_string(),
            instance_id: m.id.clone(),
            project_id: m.project_id.clone(),
            user_id: auth.claims().user_id().to_owned(),
            migration_type: mtype.into(),
            status: db::status::PRE_MIGRATING.into(),
            source_node: source.clone(),
            source_site: m.site_id.clone(),
            dest_node: None,
            dest_site: None,
            old_flavor: current(&m).to_string(),
            new_flavor: new_flavor.to_string(),
            old_image: m.image.clone(),
            created_at: at,
            updated_at: at,
        },
    )
    .await?;
    let rid = request_id(auth);
    let d = migration::start_data(&rid, &mig.uuid, &m.vm_state, host.as_deref());
    let row = saga::row(&m.id, kind, migration::CLAIM, d, migration::deadline(ctx));
    instance_saga::put(&txn, row).await?;
    m.task_state = Some(t.into());
    m.updated_at = at;
    let log = asked(auth, &m, &rid, name);
    instance_action::start(
        &txn,
        &log,
        Some(migration::event(kind)),
        Some(&source),
        false,
    )
    .await?;
    instance::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    tracing::info!(instance = %seen.id, migration = %mig.uuid, kind, "server move accepted");
    saga::kick(ctx, vec![seen.id.clone()]);
    Ok(())
}

/// `confirmResize` (`confirm`) or `revertResize`: 409 unless the server
/// waits in VERIFY_RESIZE.
pub async fn end(
    ctx: &ServiceContext,
    auth: &Auth,
    seen: &Model,
    confirming: bool,
) -> Result<(), Error> {
    let (a, kind, policy, step, t, to) = if confirming {
        (
            Action::ConfirmResize,
            confirm::CONFIRM,
            "os_compute_api:servers:confirm_resize",
            confirm::CONFIRMING,
            task::RESIZE_CONFIRMING,
            db::status::CONFIRMING,
        )
    } else {
        (
            Action::RevertResize,
            confirm::REVERT,
            "os_compute_api:servers:revert_resize",
            confirm::REVERTING,
            task::RESIZE_REVERTING,
            db::status::REVERTING,
        )
    };
    auth.enforce(policy, &target(&seen.project_id))?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let mut m = lock_live(&txn, &seen.id).await?;
    server_state::check_lock(&m, is_admin(auth))?;
    server_state::check(&m, a)?;
    let Some(mig) = db::open_of(&txn, &m.id).await? else {
        return Err(bad("Instance has not been resized."));
    };
    db::set_status(&txn, &mig.uuid, to).await?;
    let rid = request_id(auth);
    let d = confirm::start_data(&rid, &mig.uuid, m.power_state);
    instance_saga::put(&txn, saga::row(&m.id, kind, step, d, saga::never())).await?;
    m.task_state = Some(t.into());
    m.updated_at = now();
    let name = if confirming {
        "confirmResize"
    } else {
        "revertResize"
    };
    let node = m.node_id.clone();
    instance_action::start(
        &txn,
        &asked(auth, &m, &rid, name),
        Some(confirm::event(kind)),
        node.as_deref(),
        false,
    )
    .await?;
    instance::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    saga::kick(ctx, vec![seen.id.clone()]);
    Ok(())
}
