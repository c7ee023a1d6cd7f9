//! What a token is for: Keystone's project, domain, system or no scope, and
//! the roles the user holds there (implied roles included).

use std::collections::BTreeSet;

use virga_auth::{NamedRef, Scope};
use virga_common::Error;

use super::methods::find_domain;
use super::{Authenticated, DomainLocator, unauthorized};
use crate::app::IdentityState;
use crate::app::implied_roles::with_implied;
use crate::db::assignment::{self, Target};
use crate::db::{domain, project, role};

#[derive(Debug, Clone)]
pub enum ScopeRequest {
    /// No scope asked for: the user's default project if they have a role
    /// there, otherwise unscoped (Keystone's behaviour).
    Default,
    Unscoped,
    Project(ProjectLocator),
    Domain(DomainLocator),
    System,
}

#[derive(Debug, Clone)]
pub enum ProjectLocator {
    Id(String),
    Name { name: String, domain: DomainLocator },
}

pub(super) async fn resolve(
    state: &IdentityState,
    who: &Authenticated,
    req: ScopeRequest,
) -> Result<(Scope, Vec<role::Model>), Error> {
    if let Some(cred) = &who.app_credential {
        return credential_scope(state, who, cred, req).await;
    }
    match req {
        ScopeRequest::Unscoped => Ok((Scope::Unscoped, Vec::new())),
        ScopeRequest::Default => match &who.user.default_project_id {
            Some(id) => match project_scope(state, who, &ProjectLocator::Id(id.clone())).await {
                Ok(scoped) => Ok(scoped),
                // A stale default project is not the user's fault: unscoped.
                Err(Error::Unauthorized(_)) => Ok((Scope::Unscoped, Vec::new())),
                Err(e) => Err(e),
            },
            None => Ok((Scope::Unscoped, Vec::new())),
        },
        ScopeRequest::Project(p) => project_scope(state, who, &p).await,
        ScopeRequest::Domain(d) => {
            let d = find_domain(state, &d)
                .await?
                .filter(|d| d.enabled)
                .ok_or_else(|| denied(who, "unknown or disabled domain"))?;
            let roles = roles_on(state, who, &Target::Domain(d.id.clone())).await?;
            Ok((
                Scope::Domain {
                    id: d.id,
                    name: d.name,
                },
                roles,
            ))
        }
        ScopeRequest::System => {
            let roles = roles_on(state, who, &Target::System).await?;
            Ok((Scope::System, roles))
        }
    }
}

async fn project_scope(
    state: &IdentityState,
    who: &Authenticated,
    locator: &ProjectLocator,
) -> Result<(Scope, Vec<role::Model>), Error> {
    let db = state.ctx.db();
    let (found, named_domain) = match locator {
        ProjectLocator::Id(id) => (project::get(db, id).await.map(Some), None),
        ProjectLocator::Name { name, domain } => match find_domain(state, domain).await? {
            Some(d) => (
                project::get_by_name(db, &d.id, name).await.map(Some),
                Some(d),
            ),
            None => (Ok(None), None),
        },
    };
    let project = match found {
        Ok(p) => p,
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    }
    .ok_or_else(|| denied(who, "unknown project"))?;
    // The project's domain is usually one read already: the one it was
    // named in, or the user's own.
    let project_domain = match named_domain {
        Some(d) if d.id == project.domain_id => d,
        _ if who.user_domain.id == project.domain_id => who.user_domain.clone(),
        _ => domain::get(db, &project.domain_id).await?,
    };
    if !project.enabled || !project_domain.enabled {
        return Err(denied(who, "disabled project or domain"));
    }
    let direct = assignment::roles_on_project(db, &who.user.id, &project).await?;
    let roles = implied(state, who, direct).await?;
    Ok((
        Scope::Project {
            id: project.id,
            name: project.name,
            domain: NamedRef::new(project_domain.id, project_domain.name),
        },
        roles,
    ))
}

/// The user's roles on `target`, implied ones added; none is a refusal.
async fn roles_on(
    state: &IdentityState,
    who: &Authenticated,
    target: &Target,
) -> Result<Vec<role::Model>, Error> {
    let direct = assignment::roles_for(state.ctx.db(), &who.user.id, target).await?;
    implied(state, who, direct).await
}

/// Adds the roles `direct` imply; none at all is a refusal.
async fn implied(
    state: &IdentityState,
    who: &Authenticated,
    direct: Vec<role::Model>,
) -> Result<Vec<role::Model>, Error> {
    let roles = with_implied(state.ctx.db(), direct).await?;
    if roles.is_empty() {
        return Err(denied(who, "no role on the requested scope"));
    }
    Ok(roles)
}

/// An application credential fixes the scope to its project and narrows
/// the roles to those it was given that the user still holds there.
async fn credential_scope(
    state: &IdentityState,
    who: &Authenticated,
    cred: &crate::db::application_credential::Model,
    req: ScopeRequest,
) -> Result<(Scope, Vec<role::Model>), Error> {
    match &req {
        ScopeRequest::Default => {}
        ScopeRequest::Project(ProjectLocator::Id(id)) if *id == cred.project_id => {}
        _ => return Err(denied(who, "an application credential cannot change scope")),
    }
    let (scope, held) =
        project_scope(state, who, &ProjectLocator::Id(cred.project_id.clone())).await?;
    let granted = role::get_many(state.ctx.db(), &cred.role_ids()?).await?;
    let allowed: BTreeSet<String> = with_implied(state.ctx.db(), granted)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let roles: Vec<_> = held
        .into_iter()
        .filter(|r| allowed.contains(&r.id))
        .collect();
    if roles.is_empty() {
        return Err(denied(who, "the credential's roles are no longer held"));
    }
    Ok((scope, roles))
}

fn denied(who: &Authenticated, why: &str) -> Error {
    tracing::info!(user = %who.user.id, reason = why, "scope refused");
    unauthorized()
}
