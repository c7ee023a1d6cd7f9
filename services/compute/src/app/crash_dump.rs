//! `trigger_crash_dump` (microversion 2.17): the server's node sends the
//! guest a non-maskable interrupt, which a guest kernel set up for it
//! answers with a crash dump. Recorded as an instance action whose one
//! event ends with the node's answer (Nova casts and learns the outcome
//! later; the node answers at once here, so the caller hears of a driver
//! that cannot: 400, as Nova's).

use virga_common::Error;
use virga_protocol::agent::AgentCommand;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::flavor::is_admin;
use super::server::{asked, call_node, request_id, target};
use super::server_state::{self, vm};
use crate::db::instance::Model;
use crate::db::instance_action;

const ACTION: &str = "trigger_crash_dump";
/// Nova's `compute_trigger_crash_dump` event, on the node.
const EVENT: &str = "compute_trigger_crash_dump";

pub async fn trigger(ctx: &ServiceContext, auth: &Auth, m: &Model) -> Result<(), Error> {
    auth.enforce(
        "os_compute_api:servers:trigger_crash_dump",
        &target(&m.project_id),
    )?;
    server_state::check_lock(m, is_admin(auth))?;
    // Nova's states: a guest that runs, or ran until something failed.
    let ready = [vm::ACTIVE, vm::PAUSED, vm::RESIZED, vm::ERROR].contains(&m.vm_state.as_str());
    let Some(node) = m.node_id.as_deref().filter(|_| ready) else {
        return Err(Error::Conflict(format!(
            "Cannot 'trigger_crash_dump' instance {} while it is in vm_state {}",
            m.id, m.vm_state
        )));
    };
    let rid = request_id(auth);
    instance_action::start(
        ctx.db(),
        &asked(auth, m, &rid, ACTION),
        Some(EVENT),
        Some(node),
        false,
    )
    .await?;
    let ask = AgentCommand::InjectNmi {
        instance: m.id.clone(),
    };
    let sent = call_node(ctx, node, &ask).await;
    let outcome = match &sent {
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    };
    instance_action::finish(
        ctx.db(),
        &m.id,
        &rid,
        outcome.as_ref().map(|_| ()).map_err(String::as_str),
    )
    .await?;
    sent.map(|_| {
        tracing::info!(server = %m.id, node, "crash dump triggered");
    })
    .map_err(|e| match e {
        virga_bus::BusError::Remote { code, .. } if code == "Unsupported" => {
            Error::BadRequest("Triggering crash dump is not supported.".into())
        }
        virga_bus::BusError::Remote { code, .. } if code == "NotFound" => {
            Error::Conflict(format!("Instance {} is not ready.", m.id))
        }
        other => Error::Unavailable(format!("the node did not trigger the crash dump: {other}")),
    })
}
