//! The centre's commands, applied: each `ensure`, `reboot` and `delete`
//! is written to the ledger (if its generation is newer than the one held)
//! before it is acknowledged, then the instance is reconciled. A stale
//! command is dropped with a log line; a duplicate changes nothing.

use serde_json::Value;
use tokio::sync::mpsc;
use virga_bus::HandlerError;
use virga_protocol::agent::{
    AgentCommand, AgentEvent, ConsoleLog, InstanceState, InstanceStatus, Power,
};

use crate::ledger::{Applied, Desired, RebootKind, Record};
use crate::reconcile::Reconciler;

/// What the reconcile task is asked to do.
#[derive(Debug)]
pub enum Kick {
    Instance(String),
    Report,
    /// Apply the network plan; the id of the command that changed it.
    Network(Option<String>),
}

/// Handles one command; the reply value for a call.
pub async fn handle(
    rc: &Reconciler,
    kicks: &mpsc::UnboundedSender<Kick>,
    cmd: AgentCommand,
) -> Result<Value, HandlerError> {
    let db = |e: crate::ledger::LedgerError| {
        tracing::error!(error = %virga_common::error::chain(&e), "ledger write failed");
        HandlerError::retry("the agent's ledger is unavailable")
    };
    let (uuid, generation, request_id, applied) = match cmd {
        AgentCommand::Ensure {
            request_id,
            generation,
            spec,
            power,
        } => {
            let uuid = spec.uuid.clone();
            let rid = request_id.clone();
            let applied = rc
                .ledger
                .apply(&uuid, generation, move |cur| {
                    let mut r =
                        cur.unwrap_or_else(|| Record::new(&spec.uuid, None, Desired::Running));
                    if matches!(r.state, InstanceState::Error | InstanceState::Deleted) {
                        // A newer command gives a failed or deleted instance another try.
                        r.state = InstanceState::Building;
                        r.reason = None;
                    }
                    r.spec = Some(*spec);
                    r.desired = match power {
                        Power::Running => Desired::Running,
                        Power::Stopped => Desired::Stopped,
                        Power::Paused => Desired::Paused,
                    };
                    r.request_id = Some(rid);
                    r
                })
                .await
                .map_err(db)?;
            (uuid, generation, request_id, applied)
        }
        AgentCommand::Reboot {
            request_id,
            instance,
            generation,
            hard,
        } => {
            let known = rc.ledger.get(&instance).await.map_err(db)?;
            if known.as_ref().is_none_or(|r| r.desired == Desired::Deleted) {
                tracing::warn!(%instance, %request_id, "reboot of an instance this node does not have");
                rc.outbox.push(AgentEvent::InstanceState {
                    node: rc.node.clone(),
                    status: InstanceStatus {
                        instance,
                        // The answer to this command, which failed.
                        generation: known.map_or(generation, |r| r.generation.max(generation)),
                        state: InstanceState::Deleted,
                        reason: Some("no such instance on this node".into()),
                        failed: true,
                    },
                    request_id: Some(request_id),
                    at: chrono::Utc::now(),
                });
                return Ok(Value::Null);
            }
            let rid = request_id.clone();
            let applied = rc
                .ledger
                .apply(&instance, generation, move |cur| {
                    let mut r = cur.expect("checked above");
                    // A reboot leaves the guest running, as Nova's does
                    // (a hard reboot starts a stopped or paused one).
                    r.desired = Desired::Running;
                    r.pending_reboot = Some(if hard {
                        RebootKind::Hard
                    } else {
                        RebootKind::Soft
                    });
                    r.request_id = Some(rid);
                    r
                })
                .await
                .map_err(db)?;
            (instance, generation, request_id, applied)
        }
        AgentCommand::Delete {
            request_id,
            instance,
            generation,
        } => {
            let rid = request_id.clone();
            let id = instance.clone();
            let applied = rc
                .ledger
                .apply(&instance, generation, move |cur| {
                    let mut r = cur.unwrap_or_else(|| Record::new(&id, None, Desired::Deleted));
                    r.desired = Desired::Deleted;
                    r.request_id = Some(rid);
                    r
                })
                .await
                .map_err(db)?;
            (instance, generation, request_id, applied)
        }
        AgentCommand::EnsureNetwork {
            request_id,
            generation,
            state,
        } => {
            match rc
                .ledger
                .set_network(generation, &state, &request_id)
                .await
                .map_err(db)?
            {
                Ok(()) => {
                    let _ = kicks.send(Kick::Network(Some(request_id)));
                }
                Err(have) => {
                    tracing::info!(%request_id, generation, have,
                        "network plan older than the ledger's ignored");
                }
            }
            return Ok(Value::Null);
        }
        AgentCommand::Report { .. } => {
            let _ = kicks.send(Kick::Report);
            return Ok(Value::Null);
        }
        AgentCommand::FetchImage { request_id, image } => {
            // A fetch can take long: acknowledged now, answered by an event.
            let rc = rc.clone();
            tokio::spawn(async move {
                let got = rc.images.fetch(&image).await;
                if let Err(why) = &got {
                    tracing::warn!(image = %image.id, %request_id, error = %why, "pre-fetch failed");
                }
                rc.outbox.push(AgentEvent::Image {
                    node: rc.node.clone(),
                    image: image.id,
                    held: got.is_ok(),
                    reason: got.err(),
                    request_id,
                    at: chrono::Utc::now(),
                });
            });
            return Ok(Value::Null);
        }
        AgentCommand::ExportDisk {
            request_id,
            instance,
            url,
            disk_format,
        } => {
            // A disk takes long to write and send: acknowledged now,
            // answered by an event.
            if !crate::export::begin(&instance) {
                tracing::info!(%instance, %request_id, "its disk is being exported already");
                return Ok(Value::Null);
            }
            let rc = rc.clone();
            tokio::spawn(async move {
                let r = crate::export::export(&rc, &instance, &url, &disk_format).await;
                crate::export::end(&instance);
                if let Err(why) = &r {
                    tracing::warn!(%instance, %request_id, error = %why, "disk export failed");
                }
                rc.outbox.push(AgentEvent::DiskExported {
                    node: rc.node.clone(),
                    instance,
                    request_id,
                    reason: r.err(),
                    at: chrono::Utc::now(),
                });
            });
            return Ok(Value::Null);
        }
        AgentCommand::InjectNmi { instance } => {
            rc.driver.inject_nmi(&instance).await.map_err(|e| match e {
                crate::driver::DriverError::NotFound(_) => {
                    HandlerError::fail("NotFound", format!("no instance {instance} on this node"))
                }
                crate::driver::DriverError::Unsupported(_) => {
                    HandlerError::fail("Unsupported", virga_common::error::chain(&e))
                }
                other => HandlerError::fail("NmiFailed", virga_common::error::chain(&other)),
            })?;
            return Ok(Value::Null);
        }
        AgentCommand::ConsoleLog {
            instance,
            max_bytes,
        } => {
            let output = rc
                .driver
                .console_log(&instance, max_bytes.unwrap_or(64 * 1024))
                .await
                .map_err(|e| match e {
                    crate::driver::DriverError::NotFound(_) => HandlerError::fail(
                        "NotFound",
                        format!("no instance {instance} on this node"),
                    ),
                    other => {
                        HandlerError::fail("ConsoleLogFailed", virga_common::error::chain(&other))
                    }
                })?;
            let reply = ConsoleLog { instance, output };
            return Ok(serde_json::to_value(reply).expect("a console log serializes"));
        }
    };
    match applied {
        Applied::Changed(_) => {
            let _ = kicks.send(Kick::Instance(uuid));
        }
        Applied::Stale { have } => {
            tracing::info!(instance = %uuid, %request_id, generation, have,
                "command older than the ledger's state ignored");
        }
    }
    Ok(Value::Null)
}
