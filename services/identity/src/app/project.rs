//! Projects: policy checks (a project the caller may not see is a 404),
//! the store, revocation of a disabled or deleted project's tokens, and the
//! audit trail.

use virga_auth::RevocationEvent;
use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_policy::Target;
use virga_service::auth::{Auth, unix_now_ms};

use super::{IdentityState, audit, publish};
use crate::db::assignment::{self, AssignmentFilter, TargetType};
use crate::db::project::{self, NewProject, ProjectFilter, ProjectUpdate};

const KIND: &str = "project";

fn target(p: &project::Model) -> Target {
    Target::new()
        .with("project_id", p.id.clone())
        .with("domain_id", p.domain_id.clone())
}

pub async fn get(state: &IdentityState, auth: &Auth, id: &str) -> Result<project::Model, Error> {
    let p = project::get(state.ctx.db(), id).await?;
    auth.enforce_visible("identity:get_project", &target(&p), KIND, id)?;
    Ok(p)
}

pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    filter: &ProjectFilter,
    page: &PageRequest,
) -> Result<Page<project::Model>, Error> {
    let t = Target::new().with_opt("domain_id", filter.domain_id.clone());
    auth.enforce("identity:list_projects", &t)?;
    project::list(state.ctx.db(), filter, page).await
}

pub async fn create(
    state: &IdentityState,
    auth: &Auth,
    new: NewProject,
) -> Result<project::Model, Error> {
    let t = Target::new().with("domain_id", new.domain_id.clone());
    auth.enforce("identity:create_project", &t)?;
    let txn = virga_db::begin_write(state.ctx.db())
        .await
        .map_err(Error::internal)?;
    let p = project::create(&txn, new).await?;
    txn.commit().await.map_err(Error::internal)?;
    audit::change(state, auth, "identity:create_project", KIND, &p.id).await;
    Ok(p)
}

/// Disabling a project ends every token scoped to it.
pub async fn update(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    change: ProjectUpdate,
    tags: Option<Vec<String>>,
) -> Result<project::Model, Error> {
    let p = get(state, auth, id).await?;
    auth.enforce("identity:update_project", &target(&p))?;
    let disabling = change.enabled == Some(false) && p.enabled;
    let txn = virga_db::begin_write(state.ctx.db())
        .await
        .map_err(Error::internal)?;
    let p = project::update(&txn, id, change).await?;
    if let Some(tags) = tags {
        project::set_tags(&txn, id, &tags).await?;
    }
    txn.commit().await.map_err(Error::internal)?;
    if disabling {
        revoke_project_tokens(state, id).await?;
    }
    audit::change(state, auth, "identity:update_project", KIND, id).await;
    Ok(p)
}

/// Deletes a leaf project with its tags and assignments, in one
/// transaction, and ends every token scoped to it.
pub async fn delete(state: &IdentityState, auth: &Auth, id: &str) -> Result<(), Error> {
    let p = get(state, auth, id).await?;
    auth.enforce("identity:delete_project", &target(&p))?;
    let txn = virga_db::begin_write(state.ctx.db())
        .await
        .map_err(Error::internal)?;
    project::set_tags(&txn, id, &[]).await?;
    project::delete(&txn, id).await?;
    txn.commit().await.map_err(Error::internal)?;
    revoke_project_tokens(state, id).await?;
    audit::change(state, auth, "identity:delete_project", KIND, id).await;
    Ok(())
}

async fn revoke_project_tokens(state: &IdentityState, id: &str) -> Result<(), Error> {
    let event = RevocationEvent::Project {
        project_id: id.to_string(),
        issued_before_ms: unix_now_ms(),
    };
    publish::revoke(state, event).await
}

/// The enabled projects `user_id` has a role on, directly, through a group
/// or by inheritance, sorted by id.
pub async fn of_user(state: &IdentityState, user_id: &str) -> Result<Vec<project::Model>, Error> {
    let db = state.ctx.db();
    let filter = AssignmentFilter {
        user_id: Some(user_id.to_string()),
        effective: true,
        ..Default::default()
    };
    let mut ids: Vec<String> = assignment::list(db, &filter)
        .await?
        .into_iter()
        .filter(|a| a.target_type == TargetType::Project)
        .map(|a| a.target_id)
        .collect();
    ids.sort();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        match project::get(db, &id).await {
            Ok(p) if p.enabled => out.push(p),
            Ok(_) | Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
