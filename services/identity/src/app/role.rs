//! Roles: policy checks, the store, revocation of the tokens of a deleted
//! role's holders, and the audit trail.

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_policy::Target;
use virga_service::auth::Auth;

use super::{IdentityState, audit, grant};
use crate::db::assignment::{self, AssignmentFilter};
use crate::db::domain;
use crate::db::role::{self, NewRole, RoleFilter, RoleUpdate};

const KIND: &str = "role";

fn target(id: &str) -> Target {
    Target::new().with("role_id", id)
}

pub async fn get(state: &IdentityState, auth: &Auth, id: &str) -> Result<role::Model, Error> {
    auth.enforce_visible("identity:get_role", &target(id), KIND, id)?;
    role::get(state.ctx.db(), id).await
}

pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    filter: &RoleFilter,
    page: &PageRequest,
) -> Result<Page<role::Model>, Error> {
    let t = Target::new().with_opt("domain_id", filter.domain_id.clone());
    auth.enforce("identity:list_roles", &t)?;
    role::list(state.ctx.db(), filter, page).await
}

/// Creates a global role, or a domain-specific one in an existing domain.
/// A duplicate name (in the same domain, or among global roles) is 409.
pub async fn create(
    state: &IdentityState,
    auth: &Auth,
    new: NewRole,
) -> Result<role::Model, Error> {
    let t = Target::new().with_opt("domain_id", new.domain_id.clone());
    auth.enforce("identity:create_role", &t)?;
    if let Some(d) = &new.domain_id {
        domain::get(state.ctx.db(), d).await?;
    }
    let r = role::create(state.ctx.db(), new).await?;
    audit::change(state, auth, "identity:create_role", KIND, &r.id).await;
    Ok(r)
}

pub async fn update(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    change: RoleUpdate,
) -> Result<role::Model, Error> {
    get(state, auth, id).await?;
    auth.enforce("identity:update_role", &target(id))?;
    let r = role::update(state.ctx.db(), id, change).await?;
    audit::change(state, auth, "identity:update_role", KIND, id).await;
    Ok(r)
}

/// Deletes a role with its assignments; every token of a user who held it
/// (directly, through a group or by inheritance) stops working.
pub async fn delete(state: &IdentityState, auth: &Auth, id: &str) -> Result<(), Error> {
    get(state, auth, id).await?;
    auth.enforce("identity:delete_role", &target(id))?;
    let db = state.ctx.db();
    let holders = AssignmentFilter {
        role_id: Some(id.to_string()),
        effective: true,
        ..Default::default()
    };
    let mut users: Vec<String> = assignment::list(db, &holders)
        .await?
        .into_iter()
        .map(|a| a.actor_id)
        .collect();
    users.sort();
    users.dedup();
    let txn = virga_db::begin_write(db).await.map_err(Error::internal)?;
    role::delete(&txn, id).await?;
    txn.commit().await.map_err(Error::internal)?;
    grant::revoke_users(state, users).await?;
    audit::change(state, auth, "identity:delete_role", KIND, id).await;
    Ok(())
}
