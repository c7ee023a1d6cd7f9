//! The instance actions log of a server (`os-instance-actions`): what was
//! asked of it, by whom, and how each step ended. A project's readers see
//! their servers' log (from 2.21 a deleted server's too); the steps'
//! details are for admins, as at Nova's 2.1.

use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::server::{target, visible_as};
use super::versions::Microversion;
use crate::db::{instance_action, instance_action_event};

/// The server's actions, newest first.
pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    server: &str,
    at: Microversion,
) -> Result<Vec<instance_action::Model>, Error> {
    let m = visible_as(ctx, auth, server, at.at_least(21)).await?;
    auth.enforce(
        "os_compute_api:os-instance-actions:list",
        &target(&m.project_id),
    )?;
    instance_action::of_instance(ctx.db(), server).await
}

/// One action and, for those the policy lets see them, its events.
pub async fn show(
    ctx: &ServiceContext,
    auth: &Auth,
    server: &str,
    request_id: &str,
    at: Microversion,
) -> Result<
    (
        instance_action::Model,
        Option<Vec<instance_action_event::Model>>,
    ),
    Error,
> {
    let m = visible_as(ctx, auth, server, at.at_least(21)).await?;
    let t = target(&m.project_id);
    auth.enforce("os_compute_api:os-instance-actions:show", &t)?;
    let a = instance_action::find(ctx.db(), server, request_id)
        .await?
        .ok_or_else(|| Error::Missing {
            kind: "InstanceActionNotFound",
            message: format!("Action {request_id} on instance {server} could not be found."),
        })?;
    let events = if auth.allows("os_compute_api:os-instance-actions:events", &t) {
        Some(instance_action_event::of_action(ctx.db(), &a.id).await?)
    } else {
        None
    };
    Ok((a, events))
}
