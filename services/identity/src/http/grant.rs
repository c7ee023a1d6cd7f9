//! Role grants: `PUT`/`GET`/`HEAD`/`DELETE` a role for a user or a group
//! on a project, a domain or the system (`/v3/{target}/{actor}/roles/{role_id}`),
//! the OS-INHERIT grants that apply to the projects below a domain or a
//! project, and the lists of roles granted (`.../roles`). Every grant
//! answer is 204 with no body, as in Keystone.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use virga_common::Error;
use virga_service::auth::Auth;

use super::role::{RoleView, RolesResponse};
use super::{CollectionLinks, v3_base};
use crate::app::{IdentityState, grant as app};
use crate::db::assignment::{ActorType, Model, SYSTEM_ALL, TargetType};
use crate::db::role;

fn grant(
    actor_type: ActorType,
    actor_id: String,
    target_type: TargetType,
    target_id: String,
    role_id: String,
    inherited: bool,
) -> Model {
    Model {
        actor_type,
        actor_id,
        target_type,
        target_id,
        role_id,
        inherited,
    }
}

fn roles_response(
    state: &IdentityState,
    headers: &HeaderMap,
    path: &str,
    roles: Vec<role::Model>,
) -> Json<RolesResponse> {
    let base = v3_base(state, headers);
    Json(RolesResponse {
        roles: roles.into_iter().map(|r| RoleView::new(r, &base)).collect(),
        links: CollectionLinks::plain(state, headers, path),
    })
}

/// Grants role `role_id` to user `user_id` on project `project_id` (admin); granting it again is not an error.
#[utoipa::path(put, path = "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "No such project, user or role")))]
pub async fn grant_project_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::create(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Project,
            project_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether user `user_id` has role `role_id` on project `project_id` (admin): 204 or 404; `HEAD` too.
#[utoipa::path(get, path = "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "Not granted")))]
pub async fn check_project_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::check(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Project,
            project_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes role `role_id` from user `user_id` on project `project_id` (admin); the tokens of the user stop working.
#[utoipa::path(delete, path = "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "Not granted")))]
pub async fn revoke_project_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::revoke(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Project,
            project_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles granted to user `user_id` on project `project_id` (admin).
#[utoipa::path(get, path = "/v3/projects/{project_id}/users/{user_id}/roles", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 200, description = "Roles", body = RolesResponse)))]
pub async fn list_project_user_roles(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((project_id, user_id)): Path<(String, String)>,
) -> Result<Json<RolesResponse>, Error> {
    let roles = app::roles_granted(
        &state,
        &auth,
        (ActorType::User, &user_id),
        (TargetType::Project, &project_id),
        false,
    )
    .await?;
    let path = format!("/v3/projects/{project_id}/users/{user_id}/roles");
    Ok(roles_response(&state, &headers, &path, roles))
}

/// Grants role `role_id` to group `group_id` on project `project_id` (admin); granting it again is not an error.
#[utoipa::path(put, path = "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "No such project, group or role")))]
pub async fn grant_project_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::create(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Project,
            project_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether group `group_id` has role `role_id` on project `project_id` (admin): 204 or 404; `HEAD` too.
#[utoipa::path(get, path = "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "Not granted")))]
pub async fn check_project_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::check(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Project,
            project_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes role `role_id` from group `group_id` on project `project_id` (admin); the tokens of the group's members stop working.
#[utoipa::path(delete, path = "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "Not granted")))]
pub async fn revoke_project_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::revoke(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Project,
            project_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles granted to group `group_id` on project `project_id` (admin).
#[utoipa::path(get, path = "/v3/projects/{project_id}/groups/{group_id}/roles", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("group_id" = String, Path, description = "The group")),
    security(("token" = [])),
    responses((status = 200, description = "Roles", body = RolesResponse)))]
pub async fn list_project_group_roles(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((project_id, group_id)): Path<(String, String)>,
) -> Result<Json<RolesResponse>, Error> {
    let roles = app::roles_granted(
        &state,
        &auth,
        (ActorType::Group, &group_id),
        (TargetType::Project, &project_id),
        false,
    )
    .await?;
    let path = format!("/v3/projects/{project_id}/groups/{group_id}/roles");
    Ok(roles_response(&state, &headers, &path, roles))
}

/// Grants role `role_id` to user `user_id` on domain `domain_id` (admin); granting it again is not an error.
#[utoipa::path(put, path = "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "No such domain, user or role")))]
pub async fn grant_domain_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::create(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Domain,
            domain_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether user `user_id` has role `role_id` on domain `domain_id` (admin): 204 or 404; `HEAD` too.
#[utoipa::path(get, path = "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "Not granted")))]
pub async fn check_domain_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::check(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Domain,
            domain_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes role `role_id` from user `user_id` on domain `domain_id` (admin); the tokens of the user stop working.
#[utoipa::path(delete, path = "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "Not granted")))]
pub async fn revoke_domain_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::revoke(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Domain,
            domain_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles granted to user `user_id` on domain `domain_id` (admin).
#[utoipa::path(get, path = "/v3/domains/{domain_id}/users/{user_id}/roles", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 200, description = "Roles", body = RolesResponse)))]
pub async fn list_domain_user_roles(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((domain_id, user_id)): Path<(String, String)>,
) -> Result<Json<RolesResponse>, Error> {
    let roles = app::roles_granted(
        &state,
        &auth,
        (ActorType::User, &user_id),
        (TargetType::Domain, &domain_id),
        false,
    )
    .await?;
    let path = format!("/v3/domains/{domain_id}/users/{user_id}/roles");
    Ok(roles_response(&state, &headers, &path, roles))
}

/// Grants role `role_id` to group `group_id` on domain `domain_id` (admin); granting it again is not an error.
#[utoipa::path(put, path = "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "No such domain, group or role")))]
pub async fn grant_domain_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::create(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Domain,
            domain_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether group `group_id` has role `role_id` on domain `domain_id` (admin): 204 or 404; `HEAD` too.
#[utoipa::path(get, path = "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "Not granted")))]
pub async fn check_domain_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::check(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Domain,
            domain_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes role `role_id` from group `group_id` on domain `domain_id` (admin); the tokens of the group's members stop working.
#[utoipa::path(delete, path = "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "Not granted")))]
pub async fn revoke_domain_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::revoke(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Domain,
            domain_id,
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles granted to group `group_id` on domain `domain_id` (admin).
#[utoipa::path(get, path = "/v3/domains/{domain_id}/groups/{group_id}/roles", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("group_id" = String, Path, description = "The group")),
    security(("token" = [])),
    responses((status = 200, description = "Roles", body = RolesResponse)))]
pub async fn list_domain_group_roles(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((domain_id, group_id)): Path<(String, String)>,
) -> Result<Json<RolesResponse>, Error> {
    let roles = app::roles_granted(
        &state,
        &auth,
        (ActorType::Group, &group_id),
        (TargetType::Domain, &domain_id),
        false,
    )
    .await?;
    let path = format!("/v3/domains/{domain_id}/groups/{group_id}/roles");
    Ok(roles_response(&state, &headers, &path, roles))
}

/// Grants role `role_id` to user `user_id` on the system (admin); granting it again is not an error.
#[utoipa::path(put, path = "/v3/system/users/{user_id}/roles/{role_id}", tag = "grants",
    params(("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "No such user or role")))]
pub async fn grant_system_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((user_id, role_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::create(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::System,
            SYSTEM_ALL.to_string(),
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether user `user_id` has role `role_id` on the system (admin): 204 or 404; `HEAD` too.
#[utoipa::path(get, path = "/v3/system/users/{user_id}/roles/{role_id}", tag = "grants",
    params(("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "Not granted")))]
pub async fn check_system_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((user_id, role_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::check(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::System,
            SYSTEM_ALL.to_string(),
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes role `role_id` from user `user_id` on the system (admin); the tokens of the user stop working.
#[utoipa::path(delete, path = "/v3/system/users/{user_id}/roles/{role_id}", tag = "grants",
    params(("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "Not granted")))]
pub async fn revoke_system_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((user_id, role_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::revoke(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::System,
            SYSTEM_ALL.to_string(),
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles granted to user `user_id` on the system (admin).
#[utoipa::path(get, path = "/v3/system/users/{user_id}/roles", tag = "grants",
    params(("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 200, description = "Roles", body = RolesResponse)))]
pub async fn list_system_user_roles(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Json<RolesResponse>, Error> {
    let roles = app::roles_granted(
        &state,
        &auth,
        (ActorType::User, &user_id),
        (TargetType::System, SYSTEM_ALL),
        false,
    )
    .await?;
    let path = format!("/v3/system/users/{user_id}/roles");
    Ok(roles_response(&state, &headers, &path, roles))
}

/// Grants role `role_id` to group `group_id` on the system (admin); granting it again is not an error.
#[utoipa::path(put, path = "/v3/system/groups/{group_id}/roles/{role_id}", tag = "grants",
    params(("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "No such group or role")))]
pub async fn grant_system_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((group_id, role_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::create(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::System,
            SYSTEM_ALL.to_string(),
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether group `group_id` has role `role_id` on the system (admin): 204 or 404; `HEAD` too.
#[utoipa::path(get, path = "/v3/system/groups/{group_id}/roles/{role_id}", tag = "grants",
    params(("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "Not granted")))]
pub async fn check_system_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((group_id, role_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::check(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::System,
            SYSTEM_ALL.to_string(),
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes role `role_id` from group `group_id` on the system (admin); the tokens of the group's members stop working.
#[utoipa::path(delete, path = "/v3/system/groups/{group_id}/roles/{role_id}", tag = "grants",
    params(("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "Not granted")))]
pub async fn revoke_system_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((group_id, role_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::revoke(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::System,
            SYSTEM_ALL.to_string(),
            role_id,
            false,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles granted to group `group_id` on the system (admin).
#[utoipa::path(get, path = "/v3/system/groups/{group_id}/roles", tag = "grants",
    params(("group_id" = String, Path, description = "The group")),
    security(("token" = [])),
    responses((status = 200, description = "Roles", body = RolesResponse)))]
pub async fn list_system_group_roles(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> Result<Json<RolesResponse>, Error> {
    let roles = app::roles_granted(
        &state,
        &auth,
        (ActorType::Group, &group_id),
        (TargetType::System, SYSTEM_ALL),
        false,
    )
    .await?;
    let path = format!("/v3/system/groups/{group_id}/roles");
    Ok(roles_response(&state, &headers, &path, roles))
}

/// Grants role `role_id` to user `user_id` on domain `domain_id`, inherited by every project below it (admin); granting it again is not an error.
#[utoipa::path(put, path = "/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "No such domain, user or role")))]
pub async fn grant_inherited_domain_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::create(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Domain,
            domain_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether user `user_id` has role `role_id` on domain `domain_id`, inherited by every project below it (admin): 204 or 404; `HEAD` too.
#[utoipa::path(get, path = "/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "Not granted")))]
pub async fn check_inherited_domain_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::check(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Domain,
            domain_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes role `role_id` from user `user_id` on domain `domain_id`, inherited by every project below it (admin); the tokens of the user stop working.
#[utoipa::path(delete, path = "/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "Not granted")))]
pub async fn revoke_inherited_domain_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::revoke(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Domain,
            domain_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles granted to user `user_id` on domain `domain_id` to be inherited by the projects below it (admin).
#[utoipa::path(get, path = "/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/inherited_to_projects", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 200, description = "Roles", body = RolesResponse)))]
pub async fn list_inherited_domain_user_roles(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((domain_id, user_id)): Path<(String, String)>,
) -> Result<Json<RolesResponse>, Error> {
    let roles = app::roles_granted(
        &state,
        &auth,
        (ActorType::User, &user_id),
        (TargetType::Domain, &domain_id),
        true,
    )
    .await?;
    let path =
        format!("/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/inherited_to_projects");
    Ok(roles_response(&state, &headers, &path, roles))
}

/// Grants role `role_id` to group `group_id` on domain `domain_id`, inherited by every project below it (admin); granting it again is not an error.
#[utoipa::path(put, path = "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "No such domain, group or role")))]
pub async fn grant_inherited_domain_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::create(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Domain,
            domain_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether group `group_id` has role `role_id` on domain `domain_id`, inherited by every project below it (admin): 204 or 404; `HEAD` too.
#[utoipa::path(get, path = "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "Not granted")))]
pub async fn check_inherited_domain_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::check(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Domain,
            domain_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes role `role_id` from group `group_id` on domain `domain_id`, inherited by every project below it (admin); the tokens of the group's members stop working.
#[utoipa::path(delete, path = "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "Not granted")))]
pub async fn revoke_inherited_domain_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((domain_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::revoke(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Domain,
            domain_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles granted to group `group_id` on domain `domain_id` to be inherited by the projects below it (admin).
#[utoipa::path(get, path = "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/inherited_to_projects", tag = "grants",
    params(("domain_id" = String, Path, description = "The domain"),
        ("group_id" = String, Path, description = "The group")),
    security(("token" = [])),
    responses((status = 200, description = "Roles", body = RolesResponse)))]
pub async fn list_inherited_domain_group_roles(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((domain_id, group_id)): Path<(String, String)>,
) -> Result<Json<RolesResponse>, Error> {
    let roles = app::roles_granted(
        &state,
        &auth,
        (ActorType::Group, &group_id),
        (TargetType::Domain, &domain_id),
        true,
    )
    .await?;
    let path =
        format!("/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/inherited_to_projects");
    Ok(roles_response(&state, &headers, &path, roles))
}

/// Grants role `role_id` to user `user_id` on project `project_id`, inherited by every project below it (admin); granting it again is not an error.
#[utoipa::path(put, path = "/v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "No such project, user or role")))]
pub async fn grant_inherited_project_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::create(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Project,
            project_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether user `user_id` has role `role_id` on project `project_id`, inherited by every project below it (admin): 204 or 404; `HEAD` too.
#[utoipa::path(get, path = "/v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "Not granted")))]
pub async fn check_inherited_project_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::check(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Project,
            project_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes role `role_id` from user `user_id` on project `project_id`, inherited by every project below it (admin); the tokens of the user stop working.
#[utoipa::path(delete, path = "/v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("user_id" = String, Path, description = "The user"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "Not granted")))]
pub async fn revoke_inherited_project_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, user_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::revoke(
        &state,
        &auth,
        &grant(
            ActorType::User,
            user_id,
            TargetType::Project,
            project_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grants role `role_id` to group `group_id` on project `project_id`, inherited by every project below it (admin); granting it again is not an error.
#[utoipa::path(put, path = "/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "No such project, group or role")))]
pub async fn grant_inherited_project_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::create(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Project,
            project_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether group `group_id` has role `role_id` on project `project_id`, inherited by every project below it (admin): 204 or 404; `HEAD` too.
#[utoipa::path(get, path = "/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Granted"),
              (status = 404, description = "Not granted")))]
pub async fn check_inherited_project_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::check(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Project,
            project_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes role `role_id` from group `group_id` on project `project_id`, inherited by every project below it (admin); the tokens of the group's members stop working.
#[utoipa::path(delete, path = "/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects", tag = "grants",
    params(("project_id" = String, Path, description = "The project"),
        ("group_id" = String, Path, description = "The group"),
        ("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Revoked"),
              (status = 404, description = "Not granted")))]
pub async fn revoke_inherited_project_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((project_id, group_id, role_id)): Path<(String, String, String)>,
) -> Result<StatusCode, Error> {
    app::revoke(
        &state,
        &auth,
        &grant(
            ActorType::Group,
            group_id,
            TargetType::Project,
            project_id,
            role_id,
            true,
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
