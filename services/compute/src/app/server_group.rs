//! Server groups: a project's groups of servers placed together
//! (`affinity`) or apart (`anti-affinity`), as Nova has them (from
//! microversion 2.15 also preferably so: `soft-affinity`,
//! `soft-anti-affinity`, which the scheduler weighs instead of filters); made
//! by the project's members within its `server_groups` quota, seen by
//! its readers (admins: all, with `all_projects`), another project's 404.

use serde_json::Value;
use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::versions::Microversion;
use super::{flavor, input, quota_set};
use crate::db::now;
use crate::db::server_group::{self, Model};

pub const KIND: &str = "Server group";
/// The policies of microversion 2.1.
pub const POLICIES: &[&str] = &["affinity", "anti-affinity"];
/// And those of 2.15.
pub const POLICIES_2_15: &[&str] = &[
    "affinity",
    "anti-affinity",
    "soft-affinity",
    "soft-anti-affinity",
];

/// A group with its members: what the API shows.
pub struct GroupDoc {
    pub model: Model,
    pub members: Vec<String>,
}

fn target(project: &str) -> Target {
    Target::new().with("project_id", project.to_owned())
}

fn caller_project(auth: &Auth) -> Result<String, Error> {
    auth.claims()
        .project_id()
        .map(str::to_owned)
        .ok_or_else(|| Error::Forbidden("A project-scoped token is needed.".into()))
}

async fn docs(ctx: &ServiceContext, rows: Vec<Model>) -> Result<Vec<GroupDoc>, Error> {
    let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
    let mut members = server_group::members(ctx.db(), &ids).await?;
    Ok(rows
        .into_iter()
        .map(|model| GroupDoc {
            members: members.remove(&model.id).unwrap_or_default(),
            model,
        })
        .collect())
}

/// The group, if the caller may see it; else 404.
async fn visible(
    ctx: &ServiceContext,
    auth: &Auth,
    action: &str,
    id: &str,
) -> Result<Model, Error> {
    let m = server_group::find(ctx.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    auth.enforce_visible(action, &target(&m.project_id), KIND, id)?;
    Ok(m)
}

pub async fn get(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<GroupDoc, Error> {
    let m = visible(ctx, auth, "os_compute_api:os-server-groups:show", id).await?;
    Ok(docs(ctx, vec![m]).await?.remove(0))
}

/// A page of the caller's project's groups (an admin asking for
/// `all_projects`: everyone's).
pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    pairs: &[(String, String)],
) -> Result<Vec<GroupDoc>, Error> {
    let project = caller_project(auth)?;
    auth.enforce("os_compute_api:os-server-groups:index", &target(&project))?;
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let all = match get("all_projects") {
        Some(v) => input::boolean("all_projects", &Value::String(v))?,
        None => false,
    } && flavor::is_admin(auth);
    let limit = flavor::limit(&get("limit"))? as u64;
    let offset = match get("offset") {
        None => 0,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| Error::BadRequest("offset param must be an integer".into()))?,
    };
    let rows =
        server_group::list(ctx.db(), (!all).then_some(project.as_str()), offset, limit).await?;
    docs(ctx, rows).await
}

/// Checks a create body (`{"server_group": {"name", "policies": [..]}}`)
/// at microversion `at`.
pub fn parse_create(body: &Value, at: Microversion) -> Result<(String, String), Error> {
    let known = if at.at_least(15) {
        POLICIES_2_15
    } else {
        POLICIES
    };
    let g = input::object(body, "server_group", &["name", "policies"])?;
    let name = input::name("name", input::required(g, "name")?)?;
    let policies = input::required(g, "policies")?;
    let policy = policies
        .as_array()
        .filter(|a| a.len() == 1)
        .and_then(|a| a[0].as_str())
        .filter(|p| known.contains(p))
        .ok_or_else(|| {
            input::invalid(
                "policies",
                policies,
                format!("It must hold exactly one of {known:?}."),
            )
        })?;
    Ok((name, policy.to_owned()))
}

pub async fn create(
    ctx: &ServiceContext,
    auth: &Auth,
    name: String,
    policy: String,
) -> Result<GroupDoc, Error> {
    let project = caller_project(auth)?;
    auth.enforce("os_compute_api:os-server-groups:create", &target(&project))?;
    let limit = quota_set::limit(ctx, Some(&project), "server_groups").await?;
    let over = |n: u64| limit.is_some_and(|l| n > l);
    let exceeded = || Error::OverLimit("Quota exceeded, too many server groups.".into());
    if over(server_group::count(ctx.db(), &project).await? + 1) {
        return Err(exceeded());
    }
    let m = server_group::insert(
        ctx.db(),
        Model {
            id: uuid::Uuid::new_v4().to_string(),
            project_id: project.clone(),
            user_id: auth.claims().user_id().to_owned(),
            name,
            policy,
            created_at: now(),
        },
    )
    .await?;
    // Racing creates may all have passed the count: recheck, as Nova does.
    if over(server_group::count(ctx.db(), &project).await?) {
        server_group::delete(ctx.db(), &m.id).await?;
        return Err(exceeded());
    }
    tracing::info!(group = %m.id, project, policy = %m.policy, "server group created");
    Ok(GroupDoc {
        model: m,
        members: Vec::new(),
    })
}

pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    // Seen but not deletable (a reader): 403; not seen: 404.
    let m = visible(ctx, auth, "os_compute_api:os-server-groups:show", id).await?;
    auth.enforce(
        "os_compute_api:os-server-groups:delete",
        &target(&m.project_id),
    )?;
    server_group::delete(ctx.db(), id).await?;
    tracing::info!(group = %id, "server group deleted");
    Ok(())
}
