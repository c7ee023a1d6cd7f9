//! Grants (a role for a user or a group on a project, a domain or the
//! system, optionally inherited to the projects below) and the role
//! assignments listing: policy checks, the store, revocation of the tokens
//! a revoked grant was in, and the audit trail.

use virga_auth::RevocationEvent;
use virga_common::Error;
use virga_policy::Target;
use virga_service::auth::{Auth, unix_now_ms};

use super::{IdentityState, audit, publish};
use crate::db::assignment::{self, ActorType, AssignmentFilter, Model, SYSTEM_ALL, TargetType};
use crate::db::{domain, group, project, role, user};

const KIND: &str = "role_assignment";

/// A grant as the policy sees it: the role, the actor and the target.
fn target(a: &Model) -> Target {
    let t = Target::new().with("role_id", a.role_id.clone());
    let t = match a.actor_type {
        ActorType::User => t.with("user_id", a.actor_id.clone()),
        ActorType::Group => t.with("group_id", a.actor_id.clone()),
    };
    match a.target_type {
        TargetType::Project => t
            .with("project_id", a.target_id.clone())
            .with("target_project_id", a.target_id.clone()),
        TargetType::Domain => t
            .with("domain_id", a.target_id.clone())
            .with("target_domain_id", a.target_id.clone()),
        TargetType::System => t.with("target_system", a.target_id.clone()),
    }
}

/// What the audit trail names: `<actor>/<target>/<role>`.
fn audit_id(a: &Model) -> String {
    format!(
        "{}:{}/{}:{}/{}{}",
        a.actor_type.as_str(),
        a.actor_id,
        a.target_type.as_str(),
        a.target_id,
        a.role_id,
        if a.inherited { "/inherited" } else { "" }
    )
}

trait AsStr {
    fn as_str(&self) -> &'static str;
}

impl AsStr for ActorType {
    fn as_str(&self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::Group => "group",
        }
    }
}

impl AsStr for TargetType {
    fn as_str(&self) -> &'static str {
        match self {
            TargetType::Project => "project",
            TargetType::Domain => "domain",
            TargetType::System => "system",
        }
    }
}

async fn actor_exists(state: &IdentityState, t: ActorType, id: &str) -> Result<(), Error> {
    let db = state.ctx.db();
    match t {
        ActorType::User => user::get(db, id).await.map(drop),
        ActorType::Group => group::get(db, id).await.map(drop),
    }
}

async fn target_exists(state: &IdentityState, t: TargetType, id: &str) -> Result<(), Error> {
    let db = state.ctx.db();
    match t {
        TargetType::Project => project::get(db, id).await.map(drop),
        TargetType::Domain => domain::get(db, id).await.map(drop),
        TargetType::System if id == SYSTEM_ALL => Ok(()),
        TargetType::System => Err(Error::not_found("system", id)),
    }
}

/// 404 for the first of the grant's parts that does not exist, in
/// Keystone's order: a domain first, then the role, the actor, a project.
async fn parts_exist(state: &IdentityState, a: &Model) -> Result<(), Error> {
    if a.target_type == TargetType::Domain {
        target_exists(state, a.target_type, &a.target_id).await?;
    }
    role::get(state.ctx.db(), &a.role_id).await?;
    actor_exists(state, a.actor_type, &a.actor_id).await?;
    if a.target_type != TargetType::Domain {
        target_exists(state, a.target_type, &a.target_id).await?;
    }
    Ok(())
}

/// A caller who may not see the actor or the target gets the 404 they
/// would get for a missing one: a grant reveals nothing about another
/// project's users or projects.
async fn visible(
    state: &IdentityState,
    auth: &Auth,
    actor: (ActorType, &str),
    on: (TargetType, &str),
) -> Result<(), Error> {
    match actor.0 {
        ActorType::User => auth.enforce_visible(
            "identity:get_user",
            &Target::new().with("user_id", actor.1),
            "user",
            actor.1,
        )?,
        ActorType::Group => auth.enforce_visible(
            "identity:get_group",
            &Target::new().with("group_id", actor.1),
            "group",
            actor.1,
        )?,
    }
    match on.0 {
        TargetType::Project => {
            let p = project::get(state.ctx.db(), on.1).await?;
            auth.enforce_visible(
                "identity:get_project",
                &Target::new()
                    .with("project_id", p.id.clone())
                    .with("domain_id", p.domain_id),
                "project",
                on.1,
            )
        }
        TargetType::Domain => auth.enforce_visible(
            "identity:get_domain",
            &Target::new().with("domain_id", on.1),
            "domain",
            on.1,
        ),
        TargetType::System => Ok(()),
    }
}

async fn parts_visible(state: &IdentityState, auth: &Auth, a: &Model) -> Result<(), Error> {
    parts_exist(state, a).await?;
    visible(
        state,
        auth,
        (a.actor_type, &a.actor_id),
        (a.target_type, &a.target_id),
    )
    .await
}

fn not_granted(a: &Model) -> Error {
    Error::not_found("role assignment", audit_id(a))
}

/// Whether the grant exists: Ok, or 404.
pub async fn check(state: &IdentityState, auth: &Auth, a: &Model) -> Result<(), Error> {
    parts_visible(state, auth, a).await?;
    auth.enforce("identity:check_grant", &target(a))?;
    if assignment::exists(state.ctx.db(), a).await? {
        Ok(())
    } else {
        Err(not_granted(a))
    }
}

/// Grants a role; granting it again is not an error.
pub async fn create(state: &IdentityState, auth: &Auth, a: &Model) -> Result<(), Error> {
    parts_visible(state, auth, a).await?;
    auth.enforce("identity:create_grant", &target(a))?;
    assignment::grant(state.ctx.db(), a).await?;
    audit::change(state, auth, "identity:create_grant", KIND, &audit_id(a)).await;
    Ok(())
}

/// Revokes a role (404 if it was not granted). The tokens of the user, or
/// of every member of the group, stop working: they may carry the role.
pub async fn revoke(state: &IdentityState, auth: &Auth, a: &Model) -> Result<(), Error> {
    parts_visible(state, auth, a).await?;
    auth.enforce("identity:revoke_grant", &target(a))?;
    let db = state.ctx.db();
    match assignment::revoke(db, a).await {
        Ok(()) => {}
        Err(Error::NotFound { .. }) => return Err(not_granted(a)),
        Err(e) => return Err(e),
    }
    let users = match a.actor_type {
        ActorType::User => vec![a.actor_id.clone()],
        ActorType::Group => group::member_ids(db, &a.actor_id).await?,
    };
    revoke_users(state, users).await?;
    audit::change(state, auth, "identity:revoke_grant", KIND, &audit_id(a)).await;
    Ok(())
}

/// Ends every token issued so far to each of `users`.
pub async fn revoke_users(state: &IdentityState, users: Vec<String>) -> Result<(), Error> {
    let now = unix_now_ms();
    for user_id in users {
        let event = RevocationEvent::User {
            user_id,
            issued_before_ms: now,
        };
        publish::revoke(state, event).await?;
    }
    Ok(())
}

/// The roles granted to `actor` on `on` (only inherited ones if
/// `inherited`, only direct ones otherwise), sorted by name.
pub async fn roles_granted(
    state: &IdentityState,
    auth: &Auth,
    actor: (ActorType, &str),
    on: (TargetType, &str),
    inherited: bool,
) -> Result<Vec<role::Model>, Error> {
    if on.0 == TargetType::Domain {
        target_exists(state, on.0, on.1).await?;
    }
    actor_exists(state, actor.0, actor.1).await?;
    if on.0 != TargetType::Domain {
        target_exists(state, on.0, on.1).await?;
    }
    visible(state, auth, actor, on).await?;
    let probe = Model {
        actor_type: actor.0,
        actor_id: actor.1.to_string(),
        target_type: on.0,
        target_id: on.1.to_string(),
        role_id: String::new(),
        inherited,
    };
    auth.enforce("identity:list_grants", &target(&probe))?;
    let mut filter = AssignmentFilter::default();
    match actor.0 {
        ActorType::User => filter.user_id = Some(actor.1.to_string()),
        ActorType::Group => filter.group_id = Some(actor.1.to_string()),
    }
    match on.0 {
        TargetType::Project => filter.project_id = Some(on.1.to_string()),
        TargetType::Domain => filter.domain_id = Some(on.1.to_string()),
        TargetType::System => filter.system = true,
    }
    let ids: Vec<String> = assignment::list(state.ctx.db(), &filter)
        .await?
        .into_iter()
        .filter(|a| a.inherited == inherited)
        .map(|a| a.role_id)
        .collect();
    let mut roles = role::get_many(state.ctx.db(), &ids).await?;
    roles.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    roles.dedup_by(|a, b| a.id == b.id);
    Ok(roles)
}

/// `GET /v3/role_assignments`: `inherited` keeps only inherited (`Some(true)`)
/// or only direct (`Some(false)`) assignments. An admin sees every
/// assignment; another user only their own (`user.id` = themselves).
pub async fn list_assignments(
    state: &IdentityState,
    auth: &Auth,
    filter: &AssignmentFilter,
    inherited: Option<bool>,
) -> Result<Vec<Model>, Error> {
    let t = Target::new()
        .with_opt("user_id", filter.user_id.clone())
        .with_opt("group_id", filter.group_id.clone())
        .with_opt("project_id", filter.project_id.clone())
        .with_opt("domain_id", filter.domain_id.clone())
        .with_opt("role_id", filter.role_id.clone());
    auth.enforce("identity:list_role_assignments", &t)?;
    let both = |msg: &str| Err(Error::BadRequest(msg.to_string()));
    if filter.project_id.is_some() && filter.domain_id.is_some() {
        return both("Specify a domain or project, not both");
    }
    if filter.system && filter.domain_id.is_some() {
        return both("Specify system or domain, not both");
    }
    if filter.system && filter.project_id.is_some() {
        return both("Specify system or project, not both");
    }
    if filter.user_id.is_some() && filter.group_id.is_some() {
        return both("Specify a user or group, not both");
    }
    let rows = assignment::list(state.ctx.db(), filter).await?;
    Ok(rows
        .into_iter()
        .filter(|a| inherited.is_none_or(|i| a.inherited == i))
        .collect())
}
