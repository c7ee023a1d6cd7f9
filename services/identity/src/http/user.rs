//! `/v3/users`, a user's own password and a user's groups.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_common::pagination::PageQuery;
use virga_service::auth::Auth;

use super::group::{GroupView, GroupsResponse};
use super::{CollectionLinks, SelfLink, check_name, page_request, parse_bool, v3_base};
use crate::app::user::{UserChange, UserCreate, check_password};
use crate::app::{IdentityState, user as app};
use crate::db::DEFAULT_DOMAIN_ID;
use crate::db::user::{self, UserFilter};

/// Keystone's user, without its password (never shown).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub enabled: bool,
    /// Absent when unset, as in Keystone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_project_id: Option<String>,
    /// `2016-11-06T15:32:17.000000` (no zone: UTC), or null.
    pub password_expires_at: Option<String>,
    pub options: serde_json::Map<String, serde_json::Value>,
    pub links: SelfLink,
}

impl UserView {
    pub fn new(u: user::Model, base: &str) -> Self {
        UserView {
            links: SelfLink::to(base, &format!("users/{}", u.id)),
            id: u.id,
            name: u.name,
            domain_id: u.domain_id,
            enabled: u.enabled,
            default_project_id: u.default_project_id,
            password_expires_at: u
                .password_expires_at
                .map(|at| at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()),
            options: Default::default(),
        }
    }

    pub fn many(items: Vec<user::Model>, base: &str) -> Vec<Self> {
        items.into_iter().map(|u| Self::new(u, base)).collect()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub user: UserView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsersResponse {
    pub users: Vec<UserView>,
    pub links: CollectionLinks,
}

/// What openstackclient sends; `description` and `email` are not stored,
/// so only null (as clients send an unset field) is accepted for them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreateBody {
    pub name: String,
    #[serde(default)]
    pub domain_id: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub default_project_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Only `{}` (or options set to null): no user option is supported.
    #[serde(default)]
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreateRequest {
    pub user: UserCreateBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub name: Option<String>,
    /// Only the user's own domain: a user cannot move.
    #[serde(default)]
    pub domain_id: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// A new password; null removes it (the user can no longer log in by password).
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub password: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub default_project_id: Option<Option<String>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
}

impl UserPatch {
    /// Keystone's update schema wants at least one property.
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.domain_id.is_none()
            && self.enabled.is_none()
            && self.password.is_none()
            && self.default_project_id.is_none()
            && self.description.is_none()
            && self.email.is_none()
            && self.options.is_none()
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchRequest {
    pub user: UserPatch,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub password: String,
    pub original_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    pub user: PasswordChange,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UserListQuery {
    pub name: Option<String>,
    pub domain_id: Option<String>,
    pub enabled: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    pub page: PageQuery,
}

/// Fields Virga does not store: null is accepted (clients send unset
/// fields as null), a value is a 400 rather than silently dropped.
fn unsupported(
    description: &Option<String>,
    email: &Option<String>,
    options: &Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<(), Error> {
    let bad = |field: &str| {
        Err(Error::BadRequest(format!(
            "Invalid input for field 'user/{field}': not supported."
        )))
    };
    if description.is_some() {
        return bad("description");
    }
    if email.is_some() {
        return bad("email");
    }
    if let Some(opts) = options
        && let Some((k, _)) = opts.iter().find(|(_, v)| !v.is_null())
    {
        return bad(&format!("options/{k}"));
    }
    Ok(())
}

/// Lists users (admin), filtered by name, domain or enabled.
#[utoipa::path(get, path = "/v3/users", tag = "users", params(UserListQuery, PageQuery),
    security(("token" = [])),
    responses((status = 200, description = "Users", body = UsersResponse)))]
pub async fn list_users(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<UserListQuery>,
) -> Result<Json<UsersResponse>, Error> {
    let req = page_request(&q.page)?;
    let filter = UserFilter {
        name: q.name.clone(),
        domain_id: q.domain_id.clone(),
        enabled: parse_bool("enabled", &q.enabled)?,
        group_id: None,
    };
    let page = app::list(&state, &auth, &filter, &req).await?;
    let params = super::query_params(&[
        ("name", &q.name),
        ("domain_id", &q.domain_id),
        ("enabled", &q.enabled),
    ]);
    let links = CollectionLinks::page(&state, &headers, "/v3/users", &params, &page, &req);
    Ok(Json(UsersResponse {
        users: UserView::many(page.items, &v3_base(&state, &headers)),
        links,
    }))
}

/// Creates a user (admin), in the caller's domain unless one is named.
/// The password is stored as an argon2id hash and never shown. A
/// duplicate name in the domain is 409.
#[utoipa::path(post, path = "/v3/users", tag = "users", request_body = UserCreateRequest,
    security(("token" = [])),
    responses((status = 201, description = "Created", body = UserResponse),
              (status = 409, description = "Duplicate name")))]
pub async fn create_user(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Json(body): Json<UserCreateRequest>,
) -> Result<(StatusCode, Json<UserResponse>), Error> {
    let u = body.user;
    check_name("user/name", &u.name)?;
    unsupported(&u.description, &u.email, &u.options)?;
    if let Some(p) = &u.password {
        check_password("user/password", p)?;
    }
    let domain_id = u
        .domain_id
        .or_else(|| auth.claims().scope_domain_id().map(String::from))
        .unwrap_or_else(|| DEFAULT_DOMAIN_ID.to_string());
    let new = UserCreate {
        name: u.name,
        domain_id,
        enabled: u.enabled,
        password: u.password,
        default_project_id: u.default_project_id,
    };
    let created = app::create(&state, &auth, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(UserResponse {
            user: UserView::new(created, &v3_base(&state, &headers)),
        }),
    ))
}

/// Shows a user (admin, or the user itself); another user is 404.
#[utoipa::path(get, path = "/v3/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 200, description = "The user", body = UserResponse),
              (status = 404, description = "No such user")))]
pub async fn show_user(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<UserResponse>, Error> {
    let u = app::get(&state, &auth, &id).await?;
    Ok(Json(UserResponse {
        user: UserView::new(u, &v3_base(&state, &headers)),
    }))
}

/// Updates a user (admin); disabling it or setting its password ends its tokens.
#[utoipa::path(patch, path = "/v3/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, description = "The user")),
    request_body = UserPatchRequest,
    security(("token" = [])),
    responses((status = 200, description = "Updated", body = UserResponse)))]
pub async fn update_user(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<UserPatchRequest>,
) -> Result<Json<UserResponse>, Error> {
    // Whether the caller may see the user comes before what the body says:
    // another project's user is 404 whatever the body.
    let current = app::get(&state, &auth, &id).await?;
    let p = body.user;
    if p.is_empty() {
        return Err(Error::BadRequest(
            "Invalid input for field/attribute user. Value: {}. {} should be non-empty".into(),
        ));
    }
    if let Some(name) = &p.name {
        check_name("user/name", name)?;
    }
    unsupported(&p.description, &p.email, &p.options)?;
    if let Some(Some(pw)) = &p.password {
        check_password("user/password", pw)?;
    }
    if let Some(domain_id) = &p.domain_id
        && *domain_id != current.domain_id
    {
        return Err(Error::BadRequest("Cannot change Domain ID".into()));
    }
    let change = UserChange {
        name: p.name,
        enabled: p.enabled,
        password: p.password,
        default_project_id: p.default_project_id,
    };
    let u = app::update(&state, &auth, &id, change).await?;
    Ok(Json(UserResponse {
        user: UserView::new(u, &v3_base(&state, &headers)),
    }))
}

/// Deletes a user (admin) with its assignments, memberships and
/// application credentials; its tokens stop working.
#[utoipa::path(delete, path = "/v3/users/{user_id}", tag = "users",
    params(("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such user")))]
pub async fn delete_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes a user's own password, proven by the current one (no token
/// needed, as in Keystone). A wrong original password is the uniform 401;
/// on success the user's tokens stop working.
#[utoipa::path(post, path = "/v3/users/{user_id}/password", tag = "users",
    params(("user_id" = String, Path, description = "The user")),
    request_body = PasswordChangeRequest,
    responses((status = 204, description = "Changed"),
              (status = 401, description = "Wrong original password")))]
pub async fn change_password(
    State(state): State<IdentityState>,
    Path(id): Path<String>,
    Json(body): Json<PasswordChangeRequest>,
) -> Result<StatusCode, Error> {
    let c = body.user;
    check_password("user/password", &c.password)?;
    check_password("user/original_password", &c.original_password)?;
    app::change_password(&state, &id, c.original_password, c.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The groups a user belongs to (the user or admin).
#[utoipa::path(get, path = "/v3/users/{user_id}/groups", tag = "users",
    params(("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 200, description = "Groups", body = GroupsResponse),
              (status = 404, description = "No such user")))]
pub async fn list_user_groups(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Json<GroupsResponse>, Error> {
    let groups = app::groups(&state, &auth, &user_id).await?;
    let base = v3_base(&state, &headers);
    let path = format!("/v3/users/{user_id}/groups");
    Ok(Json(GroupsResponse {
        groups: groups
            .into_iter()
            .map(|g| GroupView::new(g, &base))
            .collect(),
        links: CollectionLinks::plain(&state, &headers, &path),
    }))
}
