//! `/v3/groups` and their memberships.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_common::pagination::PageQuery;
use virga_service::auth::Auth;

use super::user::{UserView, UsersResponse};
use super::{CollectionLinks, SelfLink, check_name, page_request, parse_bool, v3_base};
use crate::app::{IdentityState, group as app};
use crate::db::DEFAULT_DOMAIN_ID;
use crate::db::group::{self, GroupFilter, GroupUpdate, NewGroup};
use crate::db::user::UserFilter;

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub description: Option<String>,
    pub links: SelfLink,
}

impl GroupView {
    pub fn new(g: group::Model, base: &str) -> Self {
        GroupView {
            links: SelfLink::to(base, &format!("groups/{}", g.id)),
            id: g.id,
            name: g.name,
            domain_id: g.domain_id,
            description: g.description,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupResponse {
    pub group: GroupView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupsResponse {
    pub groups: Vec<GroupView>,
    pub links: CollectionLinks,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupCreate {
    pub name: String,
    #[serde(default)]
    pub domain_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupCreateRequest {
    pub group: GroupCreate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPatchRequest {
    pub group: GroupPatch,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct GroupListQuery {
    pub name: Option<String>,
    pub domain_id: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    pub page: PageQuery,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MemberListQuery {
    pub name: Option<String>,
    pub domain_id: Option<String>,
    pub enabled: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    pub page: PageQuery,
}

/// Lists groups (admin), filtered by name or domain.
#[utoipa::path(get, path = "/v3/groups", tag = "groups", params(GroupListQuery, PageQuery),
    security(("token" = [])),
    responses((status = 200, description = "Groups", body = GroupsResponse)))]
pub async fn list_groups(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<GroupListQuery>,
) -> Result<Json<GroupsResponse>, Error> {
    let req = page_request(&q.page)?;
    let filter = GroupFilter {
        name: q.name.clone(),
        domain_id: q.domain_id.clone(),
    };
    let page = app::list(&state, &auth, &filter, &req).await?;
    let params = super::query_params(&[("name", &q.name), ("domain_id", &q.domain_id)]);
    let links = CollectionLinks::page(&state, &headers, "/v3/groups", &params, &page, &req);
    let base = v3_base(&state, &headers);
    Ok(Json(GroupsResponse {
        groups: page
            .items
            .into_iter()
            .map(|g| GroupView::new(g, &base))
            .collect(),
        links,
    }))
}

/// Creates a group (admin), in the caller's domain unless one is named.
/// A duplicate name in the domain is 409.
#[utoipa::path(post, path = "/v3/groups", tag = "groups", request_body = GroupCreateRequest,
    security(("token" = [])),
    responses((status = 201, description = "Created", body = GroupResponse),
              (status = 409, description = "Duplicate name")))]
pub async fn create_group(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Json(body): Json<GroupCreateRequest>,
) -> Result<(StatusCode, Json<GroupResponse>), Error> {
    let g = body.group;
    check_name("group/name", &g.name)?;
    let domain_id = g
        .domain_id
        .or_else(|| auth.claims().scope_domain_id().map(String::from))
        .unwrap_or_else(|| DEFAULT_DOMAIN_ID.to_string());
    let new = NewGroup {
        name: g.name,
        domain_id,
        description: g.description,
    };
    let created = app::create(&state, &auth, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(GroupResponse {
            group: GroupView::new(created, &v3_base(&state, &headers)),
        }),
    ))
}

/// Shows a group (admin); one the caller may not see is 404.
#[utoipa::path(get, path = "/v3/groups/{group_id}", tag = "groups",
    params(("group_id" = String, Path, description = "The group")),
    security(("token" = [])),
    responses((status = 200, description = "The group", body = GroupResponse),
              (status = 404, description = "No such group")))]
pub async fn show_group(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<GroupResponse>, Error> {
    let g = app::get(&state, &auth, &id).await?;
    Ok(Json(GroupResponse {
        group: GroupView::new(g, &v3_base(&state, &headers)),
    }))
}

/// Renames a group or changes its description (admin).
#[utoipa::path(patch, path = "/v3/groups/{group_id}", tag = "groups",
    params(("group_id" = String, Path, description = "The group")),
    request_body = GroupPatchRequest,
    security(("token" = [])),
    responses((status = 200, description = "Updated", body = GroupResponse)))]
pub async fn update_group(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<GroupPatchRequest>,
) -> Result<Json<GroupResponse>, Error> {
    let p = body.group;
    if p.name.is_none() && p.description.is_none() {
        return Err(Error::BadRequest(
            "Invalid input for field/attribute group. Value: {}. {} should be non-empty".into(),
        ));
    }
    if let Some(name) = &p.name {
        check_name("group/name", name)?;
    }
    let change = GroupUpdate {
        name: p.name,
        description: p.description,
    };
    let g = app::update(&state, &auth, &id, change).await?;
    Ok(Json(GroupResponse {
        group: GroupView::new(g, &v3_base(&state, &headers)),
    }))
}

/// Deletes a group (admin) with its assignments; its members' tokens stop working.
#[utoipa::path(delete, path = "/v3/groups/{group_id}", tag = "groups",
    params(("group_id" = String, Path, description = "The group")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such group")))]
pub async fn delete_group(
    auth: Auth,
    State(state): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists a group's members (admin), filtered by name, domain or enabled.
#[utoipa::path(get, path = "/v3/groups/{group_id}/users", tag = "groups",
    params(("group_id" = String, Path, description = "The group"), MemberListQuery, PageQuery),
    security(("token" = [])),
    responses((status = 200, description = "Members", body = UsersResponse),
              (status = 404, description = "No such group")))]
pub async fn list_group_users(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<MemberListQuery>,
) -> Result<Json<UsersResponse>, Error> {
    let req = page_request(&q.page)?;
    let filter = UserFilter {
        name: q.name.clone(),
        domain_id: q.domain_id.clone(),
        enabled: parse_bool("enabled", &q.enabled)?,
        group_id: None,
    };
    let page = app::members(&state, &auth, &id, filter, &req).await?;
    let params = super::query_params(&[
        ("name", &q.name),
        ("domain_id", &q.domain_id),
        ("enabled", &q.enabled),
    ]);
    let path = format!("/v3/groups/{id}/users");
    let links = CollectionLinks::page(&state, &headers, &path, &params, &page, &req);
    Ok(Json(UsersResponse {
        users: UserView::many(page.items, &v3_base(&state, &headers)),
        links,
    }))
}

/// Adds a user to a group (admin); adding a member again is 204 too.
#[utoipa::path(put, path = "/v3/groups/{group_id}/users/{user_id}", tag = "groups",
    params(("group_id" = String, Path, description = "The group"),
           ("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 204, description = "A member"),
              (status = 404, description = "No such group or user")))]
pub async fn add_group_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((group_id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::add_member(&state, &auth, &group_id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether a user is a member of a group (admin): 204 if so, else 404.
#[utoipa::path(head, path = "/v3/groups/{group_id}/users/{user_id}", tag = "groups",
    params(("group_id" = String, Path, description = "The group"),
           ("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 204, description = "A member"),
              (status = 404, description = "Not a member, or no such group or user")))]
pub async fn check_group_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((group_id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::check_member(&state, &auth, &group_id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether a user is a member of a group (admin), as `HEAD` answers it.
#[utoipa::path(get, path = "/v3/groups/{group_id}/users/{user_id}", tag = "groups",
    params(("group_id" = String, Path, description = "The group"),
           ("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 204, description = "A member"),
              (status = 404, description = "Not a member, or no such group or user")))]
pub async fn show_group_user(
    auth: Auth,
    state: State<IdentityState>,
    path: Path<(String, String)>,
) -> Result<StatusCode, Error> {
    check_group_user(auth, state, path).await
}

/// Removes a user from a group (admin); the user's tokens stop working,
/// as the roles it had through the group are gone.
#[utoipa::path(delete, path = "/v3/groups/{group_id}/users/{user_id}", tag = "groups",
    params(("group_id" = String, Path, description = "The group"),
           ("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 204, description = "Removed"),
              (status = 404, description = "Not a member")))]
pub async fn remove_group_user(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((group_id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::remove_member(&state, &auth, &group_id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
