//! `POST /servers/{id}/action`: what a user asks of a server, parsed as
//! Nova's schemas do, checked against the server's state, lock and the
//! policy, and carried out: lock and the console log at once; start,
//! stop, reboot, rebuild, pause and unpause by the node, through the
//! action saga (`saga::action`); resize, migrate and their confirm and
//! revert by `server_move`; a crash dump (2.17) by `crash_dump`. Every
//! action is logged
//! (`os-instance-actions`).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use virga_common::Error;
use virga_protocol::agent::{AgentCommand, ConsoleLog, Power};
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::flavor::is_admin;
use super::input::{invalid, name, object};
use super::saga::{self, action};
use super::server::{
    asked, call_node, image, image_fits, lock_live, request_id, seen_image, target, visible,
};
use super::server_input::metadata;
use super::server_move;
use super::server_state::{self, Action, task, vm};
use super::versions::Microversion;
use crate::db::instance::{self, Model};
use crate::db::{instance_action, instance_saga, now};

/// One action, as asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Start,
    Stop,
    Reboot {
        hard: bool,
    },
    Rebuild(Rebuild),
    Pause,
    Unpause,
    Lock {
        reason: Option<String>,
    },
    Unlock,
    /// The last `lines` lines of the console log (`None`: all).
    ConsoleOutput {
        lines: Option<usize>,
    },
    Resize {
        flavor_ref: String,
    },
    /// To the node named (2.56's `host`), else the scheduler's choice.
    Migrate {
        host: Option<String>,
    },
    ConfirmResize,
    RevertResize,
    /// Rebuilt on another node (the one named, or the scheduler's choice)
    /// while its own is down.
    Evacuate {
        host: Option<String>,
    },
    /// An NMI to the guest (2.17).
    TriggerCrashDump,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rebuild {
    pub image_ref: String,
    pub name: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    /// 2.19: `Some(None)` clears it.
    pub description: Option<Option<String>>,
}

/// What an action gives back.
pub enum Outcome {
    Accepted,
    /// Done, nothing to show (204: `confirmResize`).
    Confirmed,
    /// 200 and no body (`evacuate`: before 2.14 as Nova without instance
    /// passwords, from 2.14 always).
    Evacuating,
    Rebuilding(Box<Model>),
    Console(String),
}

fn no_body(key: &str, v: &Value) -> Result<(), Error> {
    match v {
        Value::Null => Ok(()),
        Value::Object(o) if o.is_empty() => Ok(()),
        other => Err(invalid(
            key,
            other,
            format!("{other} is not of type 'null'"),
        )),
    }
}

/// Parses the body, at microversion `at`: one action key and its
/// arguments.
pub fn parse(body: &Value, at: Microversion) -> Result<Request, Error> {
    let Some((key, v)) = body.as_object().and_then(|o| {
        let mut it = o.iter();
        let first = it.next();
        if it.next().is_some() { None } else { first }
    }) else {
        return Err(Error::BadRequest("Malformed request body".into()));
    };
    Ok(match key.as_str() {
        "os-start" => no_body(key, v).map(|_| Request::Start)?,
        "os-stop" => no_body(key, v).map(|_| Request::Stop)?,
        "pause" => no_body(key, v).map(|_| Request::Pause)?,
        "unpause" => no_body(key, v).map(|_| Request::Unpause)?,
        "unlock" => no_body(key, v).map(|_| Request::Unlock)?,
        "confirmResize" => no_body(key, v).map(|_| Request::ConfirmResize)?,
        "trigger_crash_dump" if at.at_least(17) => {
            no_body(key, v).map(|_| Request::TriggerCrashDump)?
        }
        "trigger_crash_dump" => return Err(super::versions::not_in_version()),
        "revertResize" => no_body(key, v).map(|_| Request::RevertResize)?,
        "resize" => {
            let o = object(body, "resize", &["flavorRef", "OS-DCF:diskConfig"])?;
            let f = super::input::required(o, "flavorRef")?;
            let flavor_ref = match f {
                Value::String(s) if !s.is_empty() && s.len() <= 255 => s.clone(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(invalid(
                        "flavorRef",
                        other,
                        format!("{other} is not valid under any of the given schemas"),
                    ));
                }
            };
            Request::Resize { flavor_ref }
        }
        "evacuate" => {
            // 2.14 dropped `onSharedStorage` (Nova detects it).
            let fields: &[&str] = if at.at_least(14) {
                &["host", "adminPass"]
            } else {
                &["host", "onSharedStorage", "adminPass"]
            };
            let o = object(body, "evacuate", fields)?;
            if let Some(shared) = o.get("onSharedStorage")
                && !shared.is_boolean()
            {
                return Err(invalid(
                    "onSharedStorage",
                    shared,
                    format!("{shared} is not of type 'boolean'"),
                ));
            }
            if o.get("onSharedStorage") == Some(&Value::Bool(true)) {
                return Err(Error::BadRequest(
                    "Nodes share no storage here: an evacuated server is rebuilt from its image (onSharedStorage must be false).".into(),
                ));
            }
            let host = match o.get("host") {
                None | Some(Value::Null) => None,
                Some(h) => Some(name("host", h)?),
            };
            Request::Evacuate { host }
        }
        "migrate" => match v {
            Value::Object(o) if !o.is_empty() => {
                let o = object(body, "migrate", &["host"])?;
                let host = match o.get("host") {
                    None | Some(Value::Null) => None,
                    Some(h) => Some(name("host", h)?),
                };
                Request::Migrate { host }
            }
            other => no_body(key, other).map(|_| Request::Migrate { host: None })?,
        },
        "lock" => match v {
            Value::Object(o) => {
                object(body, "lock", &["locked_reason"])?;
                Request::Lock {
                    reason: o
                        .get("locked_reason")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                }
            }
            other => no_body(key, other).map(|_| Request::Lock { reason: None })?,
        },
        "reboot" => {
            let o = object(body, "reboot", &["type"])?;
            let t = super::input::required(o, "type")?;
            match t.as_str() {
                Some("SOFT" | "Soft" | "soft") => Request::Reboot { hard: false },
                Some("HARD" | "Hard" | "hard") => Request::Reboot { hard: true },
                _ => {
                    return Err(invalid(
                        "type",
                        t,
                        format!(
                            "{t} is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']"
                        ),
                    ));
                }
            }
        }
        "rebuild" => {
            let mut keys = vec![
                "imageRef",
                "name",
                "metadata",
                "adminPass",
                "preserve_ephemeral",
                "OS-DCF:diskConfig",
                "accessIPv4",
                "accessIPv6",
                "personality",
            ];
            keys.extend(at.at_least(19).then_some("description"));
            let o = object(body, "rebuild", &keys)?;
            let image_ref = super::input::required(o, "imageRef")?;
            let Some(image_ref) = image_ref.as_str().filter(|s| !s.is_empty()) else {
                return Err(invalid(
                    "imageRef",
                    image_ref,
                    format!("{image_ref} is not a 'uuid'"),
                ));
            };
            Request::Rebuild(Rebuild {
                image_ref: image_ref.to_owned(),
                name: o.get("name").map(|n| name("name", n)).transpose()?,
                metadata: o.get("metadata").map(metadata).transpose()?,
                description: o
                    .get("description")
                    .map(super::input::description)
                    .transpose()?,
            })
        }
        "os-getConsoleOutput" => {
            let o = object(body, "os-getConsoleOutput", &["length"])?;
            let lines = match o.get("length") {
                None | Some(Value::Null) => None,
                Some(l) => {
                    let n = l
                        .as_i64()
                        .or_else(|| l.as_str().and_then(|s| s.parse().ok()))
                        .filter(|n| *n >= -1)
                        .ok_or_else(|| {
                            invalid(
                                "length",
                                l,
                                format!("{l} is not valid under any of the given schemas"),
                            )
                        })?;
                    usize::try_from(n).ok()
                }
            };
            Request::ConsoleOutput { lines }
        }
        other => {
            return Err(Error::BadRequest(format!(
                "There is no such action: {other}"
            )));
        }
    })
}

/// Carries out the action `body` names. Another project's server is 404
/// whatever the body says.
pub async fn act(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    body: &Value,
    at: Microversion,
) -> Result<Outcome, Error> {
    let seen = visible(ctx, auth, id).await?;
    let req = parse(body, at)?;
    let carry = |action, kind, policy, task, to| Change {
        action,
        kind,
        policy,
        task,
        to,
    };
    match req {
        Request::Start => {
            let c = carry(
                Action::Start,
                action::START,
                "os_compute_api:servers:start",
                task::POWERING_ON,
                Some(Power::Running),
            );
            node_action(ctx, auth, &seen, c, None)
                .await
                .map(|_| Outcome::Accepted)
        }
        Request::Stop => {
            let c = carry(
                Action::Stop,
                action::STOP,
                "os_compute_api:servers:stop",
                task::POWERING_OFF,
                Some(Power::Stopped),
            );
            node_action(ctx, auth, &seen, c, None)
                .await
                .map(|_| Outcome::Accepted)
        }
        Request::Pause => {
            let c = carry(
                Action::Pause,
                action::PAUSE,
                "os_compute_api:os-pause-server:pause",
                task::PAUSING,
                Some(Power::Paused),
            );
            node_action(ctx, auth, &seen, c, None)
                .await
                .map(|_| Outcome::Accepted)
        }
        Request::Unpause => {
            let c = carry(
                Action::Unpause,
                action::UNPAUSE,
                "os_compute_api:os-pause-server:unpause",
                task::UNPAUSING,
                Some(Power::Running),
            );
            node_action(ctx, auth, &seen, c, None)
                .await
                .map(|_| Outcome::Accepted)
        }
        Request::Reboot { hard } => {
            let (a, t) = if hard {
                (Action::RebootHard, task::REBOOTING_HARD)
            } else {
                (Action::RebootSoft, task::REBOOTING)
            };
            let c = carry(
                a,
                action::REBOOT,
                "os_compute_api:servers:reboot",
                t,
                Some(Power::Running),
            );
            node_action(ctx, auth, &seen, c, None)
                .await
                .map(|_| Outcome::Accepted)
        }
        Request::Rebuild(r) => {
            let m = &seen;
            auth.enforce("os_compute_api:servers:rebuild", &target(&m.project_id))?;
            let img = image(ctx, auth, &r.image_ref).await?;
            let flavor: Value = serde_json::from_str(&m.flavor).unwrap_or(Value::Null);
            let (ram, disk) = (
                flavor["ram"].as_i64().unwrap_or(m.memory_mb),
                i64::from(m.root_gb),
            );
            image_fits(&img, &r.image_ref, ram, disk)?;
            // Kept as it was: a stopped server is rebuilt stopped, as Nova's.
            let c = carry(
                Action::Rebuild,
                action::REBUILD,
                "os_compute_api:servers:rebuild",
                task::REBUILDING,
                None,
            );
            let edit = move |m: &mut Model| {
                let was: Value = serde_json::from_str(&m.image).unwrap_or(Value::Null);
                let build = was["build"].as_u64().unwrap_or(0) + 1;
                m.image_id = r.image_ref.clone();
                m.image = seen_image(&img, build).to_string();
                if let Some(n) = r.name {
                    m.name = n;
                }
                if let Some(md) = r.metadata {
                    m.metadata = json!(md).to_string();
                }
                if let Some(d) = r.description {
                    m.description = d;
                }
            };
            let m = node_action(ctx, auth, &seen, c, Some(Box::new(edit))).await?;
            Ok(Outcome::Rebuilding(Box::new(m)))
        }
        Request::Lock { reason } => lock(ctx, auth, &seen, true, reason)
            .await
            .map(|_| Outcome::Accepted),
        Request::Unlock => lock(ctx, auth, &seen, false, None)
            .await
            .map(|_| Outcome::Accepted),
        Request::ConsoleOutput { lines } => {
            console(ctx, auth, &seen, lines).await.map(Outcome::Console)
        }
        Request::Resize { flavor_ref } => server_move::resize(ctx, auth, &seen, &flavor_ref)
            .await
            .map(|_| Outcome::Accepted),
        Request::Migrate { host } => server_move::migrate(ctx, auth, &seen, host.as_deref())
            .await
            .map(|_| Outcome::Accepted),
        Request::ConfirmResize => server_move::end(ctx, auth, &seen, true)
            .await
            .map(|_| Outcome::Confirmed),
        Request::RevertResize => server_move::end(ctx, auth, &seen, false)
            .await
            .map(|_| Outcome::Accepted),
        Request::Evacuate { host } => server_move::evacuate(ctx, auth, &seen, host.as_deref())
            .await
            .map(|_| Outcome::Evacuating),
        Request::TriggerCrashDump => super::crash_dump::trigger(ctx, auth, &seen)
            .await
            .map(|_| Outcome::Accepted),
    }
}

/// An action the node carries out.
struct Change {
    action: Action,
    kind: &'static str,
    policy: &'static str,
    task: &'static str,
    /// The power it ends in (`None`: the one it has).
    to: Option<Power>,
}

type Edit = Box<dyn FnOnce(&mut Model) + Send>;

/// Checks, then in one transaction: the task state set, the generation
/// bumped, the saga and the action log written; then the node told (a
/// failed send is retried by the sweeper).
async fn node_action(
    ctx: &ServiceContext,
    auth: &Auth,
    seen: &Model,
    c: Change,
    edit: Option<Edit>,
) -> Result<Model, Error> {
    let (m, id) = (seen, seen.id.as_str());
    auth.enforce(c.policy, &target(&m.project_id))?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let mut m = lock_live(&txn, id).await?;
    server_state::check_lock(&m, is_admin(auth))?;
    server_state::check(&m, c.action)?;
    let from = action::power_in(&m.vm_state);
    let to = c.to.unwrap_or(from);
    if let Some(edit) = edit {
        edit(&mut m);
    }
    m.generation += 1;
    m.task_state = Some(c.task.into());
    m.updated_at = now();
    let rid = request_id(auth);
    let hard = c.action == Action::RebootHard;
    let data = action::start_data(&rid, m.generation, from, to, hard);
    let row = saga::row(id, c.kind, action::WAIT, data, saga::never());
    instance_saga::put(&txn, row.clone()).await?;
    instance_action::start(
        &txn,
        &asked(auth, &m, &rid, c.kind),
        Some(&action::event(c.kind)),
        m.node_id.as_deref(),
        false,
    )
    .await?;
    let m = instance::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    tracing::info!(instance = %id, action = c.kind, "server action accepted");
    if let Err(e) = action::send(ctx, &row, &m).await {
        tracing::warn!(instance = %id, error = %virga_common::error::chain(&e), "the node was not told; retried");
    }
    Ok(m)
}

/// Locks or unlocks: at once, logged; an owner cannot unlock an admin's lock.
async fn lock(
    ctx: &ServiceContext,
    auth: &Auth,
    seen: &Model,
    on: bool,
    reason: Option<String>,
) -> Result<(), Error> {
    let (m, id) = (seen, seen.id.as_str());
    let t = target(&m.project_id);
    let what = if on { "lock" } else { "unlock" };
    auth.enforce(&format!("os_compute_api:os-lock-server:{what}"), &t)?;
    if !on && m.locked_by.as_deref() == Some("admin") {
        auth.enforce("os_compute_api:os-lock-server:unlock:unlock_override", &t)?;
    }
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let Some(mut m) = instance::lock(&txn, id).await? else {
        return Err(Error::not_found(super::server::KIND, id));
    };
    m.locked = on;
    // Nova's rule: a lock from outside the server's project is an admin's.
    let owner = auth.claims().project_id() == Some(m.project_id.as_str());
    m.locked_by = on.then(|| if owner { "owner" } else { "admin" }.to_owned());
    m.locked_reason = if on { reason } else { None };
    m.updated_at = now();
    let rid = request_id(auth);
    instance_action::start(&txn, &asked(auth, &m, &rid, what), None, None, true).await?;
    instance::update(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)
}

/// The console log's last `lines` lines, asked of the node.
async fn console(
    ctx: &ServiceContext,
    auth: &Auth,
    seen: &Model,
    lines: Option<usize>,
) -> Result<String, Error> {
    let (m, id) = (seen, seen.id.as_str());
    auth.enforce("os_compute_api:os-console-output", &target(&m.project_id))?;
    let Some(node) = m
        .node_id
        .as_deref()
        .filter(|_| m.vm_state != vm::BUILDING || m.task_state.as_deref() == Some(task::SPAWNING))
    else {
        return Err(Error::Conflict(format!("Instance {id} is not ready")));
    };
    let ask = AgentCommand::ConsoleLog {
        instance: id.to_owned(),
        max_bytes: None,
    };
    let reply = call_node(ctx, node, &ask).await.map_err(|e| match e {
        virga_bus::BusError::Remote { code, .. } if code == "NotFound" => Error::Missing {
            kind: "ConsoleNotAvailable",
            message: "Guest does not have a console available.".into(),
        },
        other => Error::Unavailable(format!("the node did not give the console log: {other}")),
    })?;
    let log: ConsoleLog = serde_json::from_value(reply).map_err(Error::internal)?;
    Ok(match lines {
        None => log.output,
        Some(n) => {
            let all: Vec<&str> = log.output.lines().collect();
            let mut out = all[all.len().saturating_sub(n)..].join("\n");
            if n > 0 && log.output.ends_with('\n') {
                out.push('\n');
            }
            out
        }
    })
}
