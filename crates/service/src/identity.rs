//! Questions a service asks the identity service over the bus.

use std::time::Duration;

use virga_common::Error;
use virga_protocol::identity::{IdentityCall, ProjectReply, TOPIC};

use crate::ServiceContext;

/// The project, if identity knows it; 503 when identity does not answer
/// (a caller granting a project something must not guess).
pub async fn project(ctx: &ServiceContext, id: &str) -> Result<Option<ProjectReply>, Error> {
    let (method, args) = virga_protocol::to_parts(&IdentityCall::GetProject { id: id.to_owned() });
    let timeout = Duration::from_secs(ctx.config().bus.call_timeout_secs);
    let reply = ctx
        .bus()
        .call(TOPIC, &method, args, &virga_bus::Context::default(), timeout)
        .await
        .map_err(|e| {
            tracing::warn!(error = %virga_common::error::chain(&e), "identity did not answer get_project");
            Error::Unavailable("Identity is unreachable; cannot check the project.".into())
        })?;
    serde_json::from_value::<Option<ProjectReply>>(reply).map_err(Error::internal)
}
