//! Role grants: `PUT`/`GET`/`HEAD`/`DELETE` a role for a user or a group
//! on a project, a domain or the system (`/v3/{target}/{actor}/roles/{role_id}`),
//! the OS-INHERIT grants that apply to the projects below a domain or a
//! project, and the lists of roles granted (`.../roles`). Every grant
//! answer is 204 with no body, as in Keystone.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
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

/// Declares the grant endpoints of one (target, actor) pair: `PUT`, `GET`
/// (and so `HEAD`) and `DELETE` of `path`, and optionally the list of the
/// roles granted. Each handler keeps its own `#[utoipa::path]` and doc, so
/// the router and the OpenAPI document still come from one declaration.
macro_rules! grant_endpoints {
    (
        target: ($tparam:literal, $tdesc:literal, $target:ident),
        actor: ($aparam:literal, $adesc:literal, $actor:ident),
        inherited: $inherited:literal,
        path: $path:literal,
        missing: $missing:literal,
        $gdoc:literal => $grant:ident,
        $cdoc:literal => $check:ident,
        $rdoc:literal => $revoke:ident,
        $(list $lpath:literal, $ldoc:literal => $list:ident,)?
    ) => {
        #[doc = $gdoc]
        #[utoipa::path(put, path = $path, tag = "grants",
            params(($tparam = String, Path, description = $tdesc),
                ($aparam = String, Path, description = $adesc),
                ("role_id" = String, Path, description = "The role")),
            security(("token" = [])),
            responses((status = 204, description = "Granted"),
                      (status = 404, description = $missing)))]
        pub async fn $grant(
            auth: Auth,
            State(state): State<IdentityState>,
            Path((target, actor, role)): Path<(String, String, String)>,
        ) -> Result<StatusCode, Error> {
            let a = grant(ActorType::$actor, actor, TargetType::$target, target, role, $inherited);
            app::create(&state, &auth, &a).await.map(|()| StatusCode::NO_CONTENT)
        }

        #[doc = $cdoc]
        #[utoipa::path(get, path = $path, tag = "grants",
            params(($tparam = String, Path, description = $tdesc),
                ($aparam = String, Path, description = $adesc),
                ("role_id" = String, Path, description = "The role")),
            security(("token" = [])),
            responses((status = 204, description = "Granted"),
                      (status = 404, description = "Not granted")))]
        pub async fn $check(
            auth: Auth,
            State(state): State<IdentityState>,
            Path((target, actor, role)): Path<(String, String, String)>,
        ) -> Result<StatusCode, Error> {
            let a = grant(ActorType::$actor, actor, TargetType::$target, target, role, $inherited);
            app::check(&state, &auth, &a).await.map(|()| StatusCode::NO_CONTENT)
        }

        #[doc = $rdoc]
        #[utoipa::path(delete, path = $path, tag = "grants",
            params(($tparam = String, Path, description = $tdesc),
                ($aparam = String, Path, description = $adesc),
                ("role_id" = String, Path, description = "The role")),
            security(("token" = [])),
            responses((status = 204, description = "Revoked"),
                      (status = 404, description = "Not granted")))]
        pub async fn $revoke(
            auth: Auth,
            State(state): State<IdentityState>,
            Path((target, actor, role)): Path<(String, String, String)>,
        ) -> Result<StatusCode, Error> {
            let a = grant(ActorType::$actor, actor, TargetType::$target, target, role, $inherited);
            app::revoke(&state, &auth, &a).await.map(|()| StatusCode::NO_CONTENT)
        }

        $(
        #[doc = $ldoc]
        #[utoipa::path(get, path = $lpath, tag = "grants",
            params(($tparam = String, Path, description = $tdesc),
                ($aparam = String, Path, description = $adesc)),
            security(("token" = [])),
            responses((status = 200, description = "Roles", body = RolesResponse)))]
        pub async fn $list(
            auth: Auth,
            State(state): State<IdentityState>,
            headers: HeaderMap,
            uri: Uri,
            Path((target, actor)): Path<(String, String)>,
        ) -> Result<Json<RolesResponse>, Error> {
            let roles = app::roles_granted(
                &state,
                &auth,
                (ActorType::$actor, &actor),
                (TargetType::$target, &target),
                $inherited,
            )
            .await?;
            Ok(roles_response(&state, &headers, uri.path(), roles))
        }
        )?
    };
    // The system is the one target without an id in the path.
    (
        system,
        actor: ($aparam:literal, $adesc:literal, $actor:ident),
        inherited: false,
        path: $path:literal,
        missing: $missing:literal,
        $gdoc:literal => $grant:ident,
        $cdoc:literal => $check:ident,
        $rdoc:literal => $revoke:ident,
        list $lpath:literal, $ldoc:literal => $list:ident,
    ) => {
        #[doc = $gdoc]
        #[utoipa::path(put, path = $path, tag = "grants",
            params(($aparam = String, Path, description = $adesc),
                ("role_id" = String, Path, description = "The role")),
            security(("token" = [])),
            responses((status = 204, description = "Granted"),
                      (status = 404, description = $missing)))]
        pub async fn $grant(
            auth: Auth,
            State(state): State<IdentityState>,
            Path((actor, role)): Path<(String, String)>,
        ) -> Result<StatusCode, Error> {
            let a = grant(ActorType::$actor, actor, TargetType::System, SYSTEM_ALL.into(), role, false);
            app::create(&state, &auth, &a).await.map(|()| StatusCode::NO_CONTENT)
        }

        #[doc = $cdoc]
        #[utoipa::path(get, path = $path, tag = "grants",
            params(($aparam = String, Path, description = $adesc),
                ("role_id" = String, Path, description = "The role")),
            security(("token" = [])),
            responses((status = 204, description = "Granted"),
                      (status = 404, description = "Not granted")))]
        pub async fn $check(
            auth: Auth,
            State(state): State<IdentityState>,
            Path((actor, role)): Path<(String, String)>,
        ) -> Result<StatusCode, Error> {
            let a = grant(ActorType::$actor, actor, TargetType::System, SYSTEM_ALL.into(), role, false);
            app::check(&state, &auth, &a).await.map(|()| StatusCode::NO_CONTENT)
        }

        #[doc = $rdoc]
        #[utoipa::path(delete, path = $path, tag = "grants",
            params(($aparam = String, Path, description = $adesc),
                ("role_id" = String, Path, description = "The role")),
            security(("token" = [])),
            responses((status = 204, description = "Revoked"),
                      (status = 404, description = "Not granted")))]
        pub async fn $revoke(
            auth: Auth,
            State(state): State<IdentityState>,
            Path((actor, role)): Path<(String, String)>,
        ) -> Result<StatusCode, Error> {
            let a = grant(ActorType::$actor, actor, TargetType::System, SYSTEM_ALL.into(), role, false);
            app::revoke(&state, &auth, &a).await.map(|()| StatusCode::NO_CONTENT)
        }

        #[doc = $ldoc]
        #[utoipa::path(get, path = $lpath, tag = "grants",
            params(($aparam = String, Path, description = $adesc)),
            security(("token" = [])),
            responses((status = 200, description = "Roles", body = RolesResponse)))]
        pub async fn $list(
            auth: Auth,
            State(state): State<IdentityState>,
            headers: HeaderMap,
            uri: Uri,
            Path(actor): Path<String>,
        ) -> Result<Json<RolesResponse>, Error> {
            let roles = app::roles_granted(
                &state,
                &auth,
                (ActorType::$actor, &actor),
                (TargetType::System, SYSTEM_ALL),
                false,
            )
            .await?;
            Ok(roles_response(&state, &headers, uri.path(), roles))
        }
    };
}

grant_endpoints! {
    target: ("project_id", "The project", Project),
    actor: ("user_id", "The user", User),
    inherited: false,
    path: "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}",
    missing: "No such project, user or role",
    "Grants role `role_id` to user `user_id` on project `project_id` (admin); granting it again is not an error." => grant_project_user,
    "Whether user `user_id` has role `role_id` on project `project_id` (admin): 204 or 404; `HEAD` too." => check_project_user,
    "Revokes role `role_id` from user `user_id` on project `project_id` (admin); the tokens of the user stop working." => revoke_project_user,
    list "/v3/projects/{project_id}/users/{user_id}/roles", "The roles granted to user `user_id` on project `project_id` (admin)." => list_project_user_roles,
}

grant_endpoints! {
    target: ("project_id", "The project", Project),
    actor: ("group_id", "The group", Group),
    inherited: false,
    path: "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}",
    missing: "No such project, group or role",
    "Grants role `role_id` to group `group_id` on project `project_id` (admin); granting it again is not an error." => grant_project_group,
    "Whether group `group_id` has role `role_id` on project `project_id` (admin): 204 or 404; `HEAD` too." => check_project_group,
    "Revokes role `role_id` from group `group_id` on project `project_id` (admin); the tokens of the group's members stop working." => revoke_project_group,
    list "/v3/projects/{project_id}/groups/{group_id}/roles", "The roles granted to group `group_id` on project `project_id` (admin)." => list_project_group_roles,
}

grant_endpoints! {
    target: ("domain_id", "The domain", Domain),
    actor: ("user_id", "The user", User),
    inherited: false,
    path: "/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}",
    missing: "No such domain, user or role",
    "Grants role `role_id` to user `user_id` on domain `domain_id` (admin); granting it again is not an error." => grant_domain_user,
    "Whether user `user_id` has role `role_id` on domain `domain_id` (admin): 204 or 404; `HEAD` too." => check_domain_user,
    "Revokes role `role_id` from user `user_id` on domain `domain_id` (admin); the tokens of the user stop working." => revoke_domain_user,
    list "/v3/domains/{domain_id}/users/{user_id}/roles", "The roles granted to user `user_id` on domain `domain_id` (admin)." => list_domain_user_roles,
}

grant_endpoints! {
    target: ("domain_id", "The domain", Domain),
    actor: ("group_id", "The group", Group),
    inherited: false,
    path: "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}",
    missing: "No such domain, group or role",
    "Grants role `role_id` to group `group_id` on domain `domain_id` (admin); granting it again is not an error." => grant_domain_group,
    "Whether group `group_id` has role `role_id` on domain `domain_id` (admin): 204 or 404; `HEAD` too." => check_domain_group,
    "Revokes role `role_id` from group `group_id` on domain `domain_id` (admin); the tokens of the group's members stop working." => revoke_domain_group,
    list "/v3/domains/{domain_id}/groups/{group_id}/roles", "The roles granted to group `group_id` on domain `domain_id` (admin)." => list_domain_group_roles,
}

grant_endpoints! {
    system,
    actor: ("user_id", "The user", User),
    inherited: false,
    path: "/v3/system/users/{user_id}/roles/{role_id}",
    missing: "No such user or role",
    "Grants role `role_id` to user `user_id` on the system (admin); granting it again is not an error." => grant_system_user,
    "Whether user `user_id` has role `role_id` on the system (admin): 204 or 404; `HEAD` too." => check_system_user,
    "Revokes role `role_id` from user `user_id` on the system (admin); the tokens of the user stop working." => revoke_system_user,
    list "/v3/system/users/{user_id}/roles", "The roles granted to user `user_id` on the system (admin)." => list_system_user_roles,
}

grant_endpoints! {
    system,
    actor: ("group_id", "The group", Group),
    inherited: false,
    path: "/v3/system/groups/{group_id}/roles/{role_id}",
    missing: "No such group or role",
    "Grants role `role_id` to group `group_id` on the system (admin); granting it again is not an error." => grant_system_group,
    "Whether group `group_id` has role `role_id` on the system (admin): 204 or 404; `HEAD` too." => check_system_group,
    "Revokes role `role_id` from group `group_id` on the system (admin); the tokens of the group's members stop working." => revoke_system_group,
    list "/v3/system/groups/{group_id}/roles", "The roles granted to group `group_id` on the system (admin)." => list_system_group_roles,
}

grant_endpoints! {
    target: ("domain_id", "The domain", Domain),
    actor: ("user_id", "The user", User),
    inherited: true,
    path: "/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects",
    missing: "No such domain, user or role",
    "Grants role `role_id` to user `user_id` on domain `domain_id`, inherited by every project below it (admin); granting it again is not an error." => grant_inherited_domain_user,
    "Whether user `user_id` has role `role_id` on domain `domain_id`, inherited by every project below it (admin): 204 or 404; `HEAD` too." => check_inherited_domain_user,
    "Revokes role `role_id` from user `user_id` on domain `domain_id`, inherited by every project below it (admin); the tokens of the user stop working." => revoke_inherited_domain_user,
    list "/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/inherited_to_projects", "The roles granted to user `user_id` on domain `domain_id` to be inherited by the projects below it (admin)." => list_inherited_domain_user_roles,
}

grant_endpoints! {
    target: ("domain_id", "The domain", Domain),
    actor: ("group_id", "The group", Group),
    inherited: true,
    path: "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects",
    missing: "No such domain, group or role",
    "Grants role `role_id` to group `group_id` on domain `domain_id`, inherited by every project below it (admin); granting it again is not an error." => grant_inherited_domain_group,
    "Whether group `group_id` has role `role_id` on domain `domain_id`, inherited by every project below it (admin): 204 or 404; `HEAD` too." => check_inherited_domain_group,
    "Revokes role `role_id` from group `group_id` on domain `domain_id`, inherited by every project below it (admin); the tokens of the group's members stop working." => revoke_inherited_domain_group,
    list "/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/inherited_to_projects", "The roles granted to group `group_id` on domain `domain_id` to be inherited by the projects below it (admin)." => list_inherited_domain_group_roles,
}

grant_endpoints! {
    target: ("project_id", "The project", Project),
    actor: ("user_id", "The user", User),
    inherited: true,
    path: "/v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects",
    missing: "No such project, user or role",
    "Grants role `role_id` to user `user_id` on project `project_id`, inherited by every project below it (admin); granting it again is not an error." => grant_inherited_project_user,
    "Whether user `user_id` has role `role_id` on project `project_id`, inherited by every project below it (admin): 204 or 404; `HEAD` too." => check_inherited_project_user,
    "Revokes role `role_id` from user `user_id` on project `project_id`, inherited by every project below it (admin); the tokens of the user stop working." => revoke_inherited_project_user,
}

grant_endpoints! {
    target: ("project_id", "The project", Project),
    actor: ("group_id", "The group", Group),
    inherited: true,
    path: "/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects",
    missing: "No such project, group or role",
    "Grants role `role_id` to group `group_id` on project `project_id`, inherited by every project below it (admin); granting it again is not an error." => grant_inherited_project_group,
    "Whether group `group_id` has role `role_id` on project `project_id`, inherited by every project below it (admin): 204 or 404; `HEAD` too." => check_inherited_project_group,
    "Revokes role `role_id` from group `group_id` on project `project_id`, inherited by every project below it (admin); the tokens of the group's members stop working." => revoke_inherited_project_group,
}
