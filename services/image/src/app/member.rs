//! Sharing an image with other projects (Glance's members): only a
//! `shared` image has members; its owner adds and removes them; each
//! member project alone accepts or rejects; a member sees only itself.

use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::image as images;
use crate::db::member::{self, Model};

const STATUSES: [&str; 3] = ["pending", "accepted", "rejected"];

fn shared_only(m: &crate::db::image::Model, verb: &str) -> Result<(), Error> {
    if m.visibility == "shared" {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "Not allowed to {verb} members for image {}: only a shared image has members.",
            m.id
        )))
    }
}

fn is_admin(auth: &Auth) -> bool {
    auth.allows("context_is_admin", &Target::new())
}

/// Offers the image to `project`. The image is looked up first, so an
/// image the caller cannot see is 404 whatever the body says.
pub async fn add(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    project: Option<String>,
) -> Result<Model, Error> {
    let v = images::visible(ctx, auth, id).await?;
    let project =
        project.ok_or_else(|| Error::BadRequest("Member to be added not specified".into()))?;
    if project.trim().is_empty() || project.chars().count() > 64 {
        return Err(Error::BadRequest(
            "Member can't be empty or longer than 64 characters".into(),
        ));
    }
    auth.enforce("image:add_member", &v.target)?;
    shared_only(&v.model, "create")?;
    project_exists(ctx, &project).await?;
    let m = member::add(ctx.db(), id, &project).await?;
    tracing::info!(image = %id, member = %project, "image shared");
    Ok(m)
}

/// Sharing with a project that does not exist would be a silent no-op
/// the owner never notices (a typo in an id): identity is asked.
async fn project_exists(ctx: &ServiceContext, project: &str) -> Result<(), Error> {
    match virga_service::identity::project(ctx, project).await? {
        Some(_) => Ok(()),
        None => Err(Error::BadRequest(format!(
            "Member project {project} does not exist."
        ))),
    }
}

/// The owner (or an admin) sees every member; a member only itself.
pub async fn list(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Vec<Model>, Error> {
    let m = images::visible(ctx, auth, id).await?.model;
    shared_only(&m, "list")?;
    let all = member::list(ctx.db(), id).await?;
    let caller = auth.claims().project_id();
    if is_admin(auth) || (caller.is_some() && caller == m.owner.as_deref()) {
        return Ok(all);
    }
    Ok(all
        .into_iter()
        .filter(|m| Some(m.member.as_str()) == caller)
        .collect())
}

pub async fn get(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    project: &str,
) -> Result<Model, Error> {
    let not_found = || Error::NotFound {
        kind: "image member",
        id: project.to_owned(),
    };
    let visible = list(ctx, auth, id).await.map_err(|e| match e {
        Error::Forbidden(_) => not_found(),
        other => other,
    })?;
    visible
        .into_iter()
        .find(|m| m.member == project)
        .ok_or_else(not_found)
}

/// Only the member project itself (or an admin) answers the offer.
pub async fn set_status(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    project: &str,
    status: Option<String>,
) -> Result<Model, Error> {
    let m = images::visible(ctx, auth, id).await?.model;
    let status = status.ok_or_else(|| Error::BadRequest("Status not specified".into()))?;
    if !STATUSES.contains(&status.as_str()) {
        return Err(Error::BadRequest(format!(
            "Incorrect request: Status must be one of {STATUSES:?}."
        )));
    }
    shared_only(&m, "update")?;
    let t = Target::new().with("member_id", project.to_owned());
    auth.enforce("image:modify_member", &t)?;
    let m = member::find(ctx.db(), id, project)
        .await?
        .ok_or_else(|| Error::NotFound {
            kind: "image member",
            id: project.to_owned(),
        })?;
    member::set_status(ctx.db(), m, &status).await
}

pub async fn remove(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    project: &str,
) -> Result<(), Error> {
    let m = images::allowed(ctx, auth, id, "image:delete_member").await?;
    shared_only(&m, "delete")?;
    if member::find(ctx.db(), id, project).await?.is_none() {
        return Err(Error::NotFound {
            kind: "image member",
            id: project.to_owned(),
        });
    }
    member::delete(ctx.db(), id, project).await
}
