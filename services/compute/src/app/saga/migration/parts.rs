//! What moves share with the sagas that end them (confirm, revert) and
//! with delete: the server settled, the transit image and the other
//! node's guest given back, a move's start and deadline.

use chrono::Utc;
use serde_json::{Value, json};
use virga_common::Error;
use virga_protocol::agent::{AgentCommand, Power};
use virga_service::ServiceContext;
use virga_service::peer::{self, As, Method};

use super::super::{release, tell};
use super::power_name;
use crate::app::server_state::{power, vm};
use crate::db::migration::{self, status};
use crate::db::{instance, now};

/// A server done moving (or moving back): active or stopped as `to`
/// says, no task.
pub fn settle(m: &mut instance::Model, to: Power) {
    (m.vm_state, m.power_state) = match to {
        Power::Stopped => (vm::STOPPED.into(), power::SHUTDOWN),
        _ => (vm::ACTIVE.into(), power::RUNNING),
    };
    m.task_state = None;
    m.updated_at = now();
}

/// The image service, as compute's service user.
pub async fn image_call(
    ctx: &ServiceContext,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<peer::Reply, Error> {
    peer::call(ctx, As::Service, "image", method, path, body, &[]).await
}

/// Deletes the image a disk travelled in (gone already is fine).
pub async fn drop_image(ctx: &ServiceContext, id: &str) -> Result<(), Error> {
    let r = image_call(ctx, Method::DELETE, &format!("/v2/images/{id}"), None).await?;
    match r.status {
        200..=299 | 404 => Ok(()),
        s => Err(Error::Unavailable(format!(
            "the image service answered {s} deleting image {id}"
        ))),
    }
}

/// Tells `node` to destroy its guest of the server (a move's other end).
pub async fn destroy_on(
    ctx: &ServiceContext,
    node: &str,
    id: &str,
    generation: i64,
) -> Result<(), Error> {
    let cmd = AgentCommand::Delete {
        request_id: format!("req-{}", uuid::Uuid::new_v4()),
        instance: id.to_owned(),
        generation: u64::try_from(generation).unwrap_or(0),
    };
    tell(ctx, node, &cmd).await
}

/// A move's start: the saga's data.
pub fn start_data(request_id: &str, migration: &str, vm_state: &str, host: Option<&str>) -> Value {
    json!({
        "request_id": request_id, "migration": migration,
        "from": power_name(vm_state), "host": host,
    })
}

/// Gives back what an open move holds besides the server's own node
/// (a server deleted while moving or moved): the other node's guest, the
/// target's claim, the image.
pub async fn abandon(ctx: &ServiceContext, server: &instance::Model) -> Result<(), Error> {
    let Some(mig) = migration::open_of(ctx.db(), &server.id).await? else {
        return Ok(());
    };
    let here = server.node_id.as_deref();
    for node in [Some(mig.source_node.as_str()), mig.dest_node.as_deref()]
        .into_iter()
        .flatten()
    {
        if Some(node) != here {
            destroy_on(ctx, node, &server.id, server.generation + 1).await?;
        }
    }
    release(ctx, std::slice::from_ref(&mig.uuid)).await?;
    drop_image(ctx, &mig.uuid).await?;
    migration::set_status(ctx.db(), &mig.uuid, status::ERROR).await
}

pub fn deadline(ctx: &ServiceContext) -> chrono::DateTime<Utc> {
    now()
        + chrono::Duration::seconds(
            i64::try_from(ctx.config().compute.build_timeout_secs).unwrap_or(i64::MAX),
        )
}
