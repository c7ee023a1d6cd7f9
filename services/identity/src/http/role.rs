//! `/v3/roles`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_common::pagination::PageQuery;
use virga_service::auth::Auth;

use super::{CollectionLinks, SelfLink, check_name, page_request, v3_base};
use crate::app::{IdentityState, role as app};
use crate::db::role::{self, NewRole, RoleFilter, RoleUpdate};

/// A role as Keystone shows it; `domain_id` is null for a global role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    pub id: String,
    pub name: String,
    pub domain_id: Option<String>,
    pub description: Option<String>,
    pub options: serde_json::Map<String, serde_json::Value>,
    pub links: SelfLink,
}

impl RoleView {
    pub fn new(r: role::Model, base: &str) -> Self {
        RoleView {
            links: SelfLink::to(base, &format!("roles/{}", r.id)),
            id: r.id,
            name: r.name,
            domain_id: r.domain_id,
            description: r.description,
            options: Default::default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleResponse {
    pub role: RoleView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RolesResponse {
    pub roles: Vec<RoleView>,
    pub links: CollectionLinks,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleCreate {
    pub name: String,
    /// A domain-specific role's domain; absent or null for a global role.
    #[serde(default)]
    pub domain_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Only `{}`: no role options (such as `immutable`) are supported.
    #[serde(default)]
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleCreateRequest {
    pub role: RoleCreate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePatchRequest {
    pub role: RolePatch,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RoleListQuery {
    pub name: Option<String>,
    /// A domain's roles; without it only global roles are listed.
    pub domain_id: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    pub page: PageQuery,
}

fn check_options(
    options: &Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<(), Error> {
    match options {
        Some(o) if !o.is_empty() => Err(Error::BadRequest(
            "Invalid input for field 'role/options': no role options are supported.".into(),
        )),
        _ => Ok(()),
    }
}

/// Lists the global roles, or a domain's roles, optionally by name.
#[utoipa::path(get, path = "/v3/roles", tag = "roles", params(RoleListQuery, PageQuery),
    security(("token" = [])),
    responses((status = 200, description = "Roles", body = RolesResponse)))]
pub async fn list_roles(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<RoleListQuery>,
) -> Result<Json<RolesResponse>, Error> {
    let req = page_request(&q.page)?;
    let filter = RoleFilter {
        name: q.name.clone(),
        domain_id: q.domain_id.clone(),
    };
    let page = app::list(&state, &auth, &filter, &req).await?;
    let params = super::query_params(&[("name", &q.name), ("domain_id", &q.domain_id)]);
    let links = CollectionLinks::page(&state, &headers, "/v3/roles", &params, &page, &req);
    let base = v3_base(&state, &headers);
    Ok(Json(RolesResponse {
        roles: page
            .items
            .into_iter()
            .map(|r| RoleView::new(r, &base))
            .collect(),
        links,
    }))
}

/// Creates a role (admin). A duplicate name is 409.
#[utoipa::path(post, path = "/v3/roles", tag = "roles", request_body = RoleCreateRequest,
    security(("token" = [])),
    responses((status = 201, description = "Created", body = RoleResponse),
              (status = 409, description = "Duplicate name")))]
pub async fn create_role(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Json(body): Json<RoleCreateRequest>,
) -> Result<(StatusCode, Json<RoleResponse>), Error> {
    let r = body.role;
    check_name("role/name", &r.name)?;
    check_options(&r.options)?;
    let new = NewRole {
        name: r.name,
        domain_id: r.domain_id,
        description: r.description,
    };
    let created = app::create(&state, &auth, new).await?;
    let base = v3_base(&state, &headers);
    Ok((
        StatusCode::CREATED,
        Json(RoleResponse {
            role: RoleView::new(created, &base),
        }),
    ))
}

/// Shows a role.
#[utoipa::path(get, path = "/v3/roles/{role_id}", tag = "roles",
    params(("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 200, description = "The role", body = RoleResponse),
              (status = 404, description = "No such role")))]
pub async fn show_role(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<RoleResponse>, Error> {
    let r = app::get(&state, &auth, &id).await?;
    let base = v3_base(&state, &headers);
    Ok(Json(RoleResponse {
        role: RoleView::new(r, &base),
    }))
}

/// Renames a role or changes its description (admin).
#[utoipa::path(patch, path = "/v3/roles/{role_id}", tag = "roles",
    params(("role_id" = String, Path, description = "The role")),
    request_body = RolePatchRequest,
    security(("token" = [])),
    responses((status = 200, description = "Updated", body = RoleResponse),
              (status = 409, description = "Duplicate name")))]
pub async fn update_role(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<RolePatchRequest>,
) -> Result<Json<RoleResponse>, Error> {
    let r = body.role;
    if let Some(name) = &r.name {
        check_name("role/name", name)?;
    }
    check_options(&r.options)?;
    let change = RoleUpdate {
        name: r.name,
        description: r.description,
    };
    let updated = app::update(&state, &auth, &id, change).await?;
    let base = v3_base(&state, &headers);
    Ok(Json(RoleResponse {
        role: RoleView::new(updated, &base),
    }))
}

/// Deletes a role and its assignments (admin); its holders' tokens stop working.
#[utoipa::path(delete, path = "/v3/roles/{role_id}", tag = "roles",
    params(("role_id" = String, Path, description = "The role")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such role")))]
pub async fn delete_role(
    auth: Auth,
    State(state): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
