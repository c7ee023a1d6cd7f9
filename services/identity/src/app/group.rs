//! Groups and their memberships: policy checks (a group the caller may not
//! see is a 404), the store, revocation of the tokens of users whose roles
//! may shrink, and the audit trail.

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_policy::Target;
use virga_service::auth::Auth;

use super::user::revoke_user_tokens;
use super::{IdentityState, audit};
use crate::db::group::{self, GroupFilter, GroupUpdate, NewGroup};
use crate::db::user::{self, UserFilter};

const KIND: &str = "group";

fn target(g: &group::Model) -> Target {
    Target::new()
        .with("group_id", g.id.clone())
        .with("domain_id", g.domain_id.clone())
}

fn membership_target(g: &group::Model, user_id: &str) -> Target {
    target(g).with("user_id", user_id.to_string())
}

pub async fn get(state: &IdentityState, auth: &Auth, id: &str) -> Result<group::Model, Error> {
    let g = group::get(state.ctx.db(), id).await?;
    auth.enforce_visible("identity:get_group", &target(&g), KIND, id)?;
    Ok(g)
}

pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    filter: &GroupFilter,
    page: &PageRequest,
) -> Result<Page<group::Model>, Error> {
    let t = Target::new().with_opt("domain_id", filter.domain_id.clone());
    auth.enforce("identity:list_groups", &t)?;
    group::list(state.ctx.db(), filter, page).await
}

pub async fn create(
    state: &IdentityState,
    auth: &Auth,
    new: NewGroup,
) -> Result<group::Model, Error> {
    let t = Target::new().with("domain_id", new.domain_id.clone());
    auth.enforce("identity:create_group", &t)?;
    crate::db::domain::get(state.ctx.db(), &new.domain_id).await?;
    let g = group::create(state.ctx.db(), new).await?;
    audit::change(state, auth, "identity:create_group", KIND, &g.id).await;
    Ok(g)
}

pub async fn update(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    change: GroupUpdate,
) -> Result<group::Model, Error> {
    let g = get(state, auth, id).await?;
    auth.enforce("identity:update_group", &target(&g))?;
    let g = group::update(state.ctx.db(), id, change).await?;
    audit::change(state, auth, "identity:update_group", KIND, id).await;
    Ok(g)
}

/// Deletes a group with its assignments in one transaction; its members
/// lose the roles it gave them, so their tokens end.
pub async fn delete(state: &IdentityState, auth: &Auth, id: &str) -> Result<(), Error> {
    let g = get(state, auth, id).await?;
    auth.enforce("identity:delete_group", &target(&g))?;
    let txn = virga_db::begin_write(state.ctx.db())
        .await
        .map_err(Error::internal)?;
    let members = group::member_ids(&txn, id).await?;
    group::delete(&txn, id).await?;
    txn.commit().await.map_err(Error::internal)?;
    for user_id in members {
        revoke_user_tokens(state, &user_id).await?;
    }
    audit::change(state, auth, "identity:delete_group", KIND, id).await;
    Ok(())
}

/// The group's members, filtered like the user list.
pub async fn members(
    state: &IdentityState,
    auth: &Auth,
    group_id: &str,
    filter: UserFilter,
    page: &PageRequest,
) -> Result<Page<user::Model>, Error> {
    let g = get(state, auth, group_id).await?;
    auth.enforce("identity:list_users_in_group", &target(&g))?;
    let filter = UserFilter {
        group_id: Some(group_id.to_string()),
        ..filter
    };
    user::list(state.ctx.db(), &filter, page).await
}

/// Adds a user to a group; adding a member again is not an error.
pub async fn add_member(
    state: &IdentityState,
    auth: &Auth,
    group_id: &str,
    user_id: &str,
) -> Result<(), Error> {
    let g = get(state, auth, group_id).await?;
    auth.enforce(
        "identity:add_user_to_group",
        &membership_target(&g, user_id),
    )?;
    group::add_member(state.ctx.db(), group_id, user_id).await?;
    audit::change(state, auth, "identity:add_user_to_group", KIND, group_id).await;
    Ok(())
}

/// Ok if the user is a member, else 404.
pub async fn check_member(
    state: &IdentityState,
    auth: &Auth,
    group_id: &str,
    user_id: &str,
) -> Result<(), Error> {
    let g = get(state, auth, group_id).await?;
    auth.enforce(
        "identity:check_user_in_group",
        &membership_target(&g, user_id),
    )?;
    let db = state.ctx.db();
    user::get(db, user_id).await?;
    if group::is_member(db, group_id, user_id).await? {
        Ok(())
    } else {
        Err(not_member(group_id, user_id))
    }
}

/// Removes a user from a group; the roles it had through the group go, so
/// its tokens end.
pub async fn remove_member(
    state: &IdentityState,
    auth: &Auth,
    group_id: &str,
    user_id: &str,
) -> Result<(), Error> {
    let g = get(state, auth, group_id).await?;
    auth.enforce(
        "identity:remove_user_from_group",
        &membership_target(&g, user_id),
    )?;
    match group::remove_member(state.ctx.db(), group_id, user_id).await {
        Ok(()) => {}
        Err(Error::NotFound { .. }) => return Err(not_member(group_id, user_id)),
        Err(e) => return Err(e),
    }
    revoke_user_tokens(state, user_id).await?;
    audit::change(
        state,
        auth,
        "identity:remove_user_from_group",
        KIND,
        group_id,
    )
    .await;
    Ok(())
}

fn not_member(group_id: &str, user_id: &str) -> Error {
    Error::not_found("user", format!("{user_id} in group {group_id}"))
}
