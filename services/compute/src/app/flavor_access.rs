//! Which projects may use a private flavor: listed, granted and revoked
//! by admins; a public flavor has no such list.

use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::flavor;
use crate::db::flavor_access;

/// The projects the flavor is shared with.
pub async fn list(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Vec<String>, Error> {
    auth.enforce("os_compute_api:os-flavor-access", &Target::new())?;
    let f = flavor::visible(ctx, auth, id).await?;
    if f.is_public {
        return Err(Error::Missing {
            kind: "Flavor access",
            message: "Access list not available for public flavors.".into(),
        });
    }
    flavor_access::of(ctx.db(), id).await
}

/// Shares a private flavor with a project identity knows.
pub async fn add(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    project: &str,
) -> Result<Vec<String>, Error> {
    auth.enforce(
        "os_compute_api:os-flavor-access:add_tenant_access",
        &Target::new(),
    )?;
    let f = flavor::visible(ctx, auth, id).await?;
    if f.is_public {
        return Err(Error::Conflict(
            "Can not add access to a public flavor.".into(),
        ));
    }
    if virga_service::identity::project(ctx, project)
        .await?
        .is_none()
    {
        return Err(Error::BadRequest(format!(
            "Project ID {project} is not a valid project."
        )));
    }
    if !flavor_access::add(ctx.db(), id, project).await? {
        return Err(Error::Conflict(format!(
            "Flavor access already exists for flavor {id} and project {project} combination."
        )));
    }
    tracing::info!(flavor = %id, project, "flavor shared");
    flavor_access::of(ctx.db(), id).await
}

/// Stops sharing a flavor with a project.
pub async fn remove(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    project: &str,
) -> Result<Vec<String>, Error> {
    auth.enforce(
        "os_compute_api:os-flavor-access:remove_tenant_access",
        &Target::new(),
    )?;
    flavor::visible(ctx, auth, id).await?;
    if !flavor_access::remove(ctx.db(), id, project).await? {
        return Err(Error::Missing {
            kind: "Flavor access",
            message: format!("Flavor access not found for {id} / {project} combination."),
        });
    }
    tracing::info!(flavor = %id, project, "flavor no longer shared");
    flavor_access::of(ctx.db(), id).await
}
