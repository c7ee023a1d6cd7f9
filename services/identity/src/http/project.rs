//! `/v3/projects`, `/v3/users/{user_id}/projects` and `/v3/auth/projects`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_common::pagination::PageQuery;
use virga_policy::Target;
use virga_service::auth::Auth;

use super::{CollectionLinks, SelfLink, check_name, page_request, parse_bool, v3_base};
use crate::app::{IdentityState, project as app};
use crate::db::DEFAULT_DOMAIN_ID;
use crate::db::project::{self, NewProject, ProjectFilter, ProjectUpdate};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectView {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub description: Option<String>,
    pub enabled: bool,
    /// The parent project, or the domain for a top-level project (as Keystone shows it).
    pub parent_id: String,
    pub is_domain: bool,
    pub tags: Vec<String>,
    pub options: serde_json::Map<String, serde_json::Value>,
    pub links: SelfLink,
}

impl ProjectView {
    pub async fn load(state: &IdentityState, p: project::Model, base: &str) -> Result<Self, Error> {
        let tags = project::tags(state.ctx.db(), &p.id).await?;
        Ok(ProjectView {
            links: SelfLink::to(base, &format!("projects/{}", p.id)),
            parent_id: p.parent_id.unwrap_or_else(|| p.domain_id.clone()),
            id: p.id,
            name: p.name,
            domain_id: p.domain_id,
            description: p.description,
            enabled: p.enabled,
            is_domain: false,
            tags,
            options: Default::default(),
        })
    }

    async fn many(
        state: &IdentityState,
        items: Vec<project::Model>,
        base: &str,
    ) -> Result<Vec<Self>, Error> {
        let mut out = Vec::with_capacity(items.len());
        for p in items {
            out.push(Self::load(state, p, base).await?);
        }
        Ok(out)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectResponse {
    pub project: ProjectView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectsResponse {
    pub projects: Vec<ProjectView>,
    pub links: CollectionLinks,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectCreate {
    pub name: String,
    #[serde(default)]
    pub domain_id: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Only `false`: projects acting as domains are not supported.
    #[serde(default)]
    pub is_domain: bool,
    #[serde(default)]
    pub tags: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectCreateRequest {
    pub project: ProjectCreate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatchRequest {
    pub project: ProjectPatch,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProjectListQuery {
    pub name: Option<String>,
    pub domain_id: Option<String>,
    pub enabled: Option<String>,
    pub parent_id: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    pub page: PageQuery,
}

fn check_tags(tags: &[String]) -> Result<(), Error> {
    if tags.len() > 80 {
        return Err(Error::BadRequest(
            "Invalid input for field 'project/tags': at most 80 tags.".into(),
        ));
    }
    for t in tags {
        if t.is_empty() || t.chars().count() > 255 || t.contains('/') || t.contains(',') {
            return Err(Error::BadRequest(format!(
                "Invalid input for field 'project/tags': tag '{t}' must have 1 to 255 characters and no '/' or ','."
            )));
        }
    }
    Ok(())
}

/// Lists projects (admin), filtered by name, domain, enabled or parent.
#[utoipa::path(get, path = "/v3/projects", tag = "projects", params(ProjectListQuery, PageQuery),
    security(("token" = [])),
    responses((status = 200, description = "Projects", body = ProjectsResponse)))]
pub async fn list_projects(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<ProjectListQuery>,
) -> Result<Json<ProjectsResponse>, Error> {
    let req = page_request(&q.page)?;
    let filter = ProjectFilter {
        name: q.name.clone(),
        domain_id: q.domain_id.clone(),
        enabled: parse_bool("enabled", &q.enabled)?,
        parent_id: q.parent_id.clone(),
    };
    let page = app::list(&state, &auth, &filter, &req).await?;
    let params = super::query_params(&[
        ("name", &q.name),
        ("domain_id", &q.domain_id),
        ("enabled", &q.enabled),
        ("parent_id", &q.parent_id),
    ]);
    let links = CollectionLinks::page(&state, &headers, "/v3/projects", &params, &page, &req);
    let base = v3_base(&state, &headers);
    Ok(Json(ProjectsResponse {
        projects: ProjectView::many(&state, page.items, &base).await?,
        links,
    }))
}

/// Creates a project (admin), optionally below a parent project in the
/// same domain. A duplicate name in the domain is 409.
#[utoipa::path(post, path = "/v3/projects", tag = "projects", request_body = ProjectCreateRequest,
    security(("token" = [])),
    responses((status = 201, description = "Created", body = ProjectResponse),
              (status = 409, description = "Duplicate name")))]
pub async fn create_project(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Json(body): Json<ProjectCreateRequest>,
) -> Result<(StatusCode, Json<ProjectResponse>), Error> {
    let p = body.project;
    check_name("project/name", &p.name)?;
    check_tags(&p.tags)?;
    if p.is_domain {
        return Err(Error::BadRequest(
            "Invalid input for field 'project/is_domain': projects acting as domains are not supported.".into(),
        ));
    }
    let domain_id = p
        .domain_id
        .or_else(|| auth.claims().scope_domain_id().map(String::from))
        .unwrap_or_else(|| DEFAULT_DOMAIN_ID.to_string());
    // Keystone's clients name the domain as parent of a top-level project.
    let parent_id = p.parent_id.filter(|parent| *parent != domain_id);
    let new = NewProject {
        name: p.name,
        domain_id,
        parent_id,
        description: p.description,
        enabled: p.enabled,
        tags: p.tags,
    };
    let created = app::create(&state, &auth, new).await?;
    let base = v3_base(&state, &headers);
    Ok((
        StatusCode::CREATED,
        Json(ProjectResponse {
            project: ProjectView::load(&state, created, &base).await?,
        }),
    ))
}

/// Shows a project; one the caller may not see is 404.
#[utoipa::path(get, path = "/v3/projects/{project_id}", tag = "projects",
    params(("project_id" = String, Path, description = "The project")),
    security(("token" = [])),
    responses((status = 200, description = "The project", body = ProjectResponse),
              (status = 404, description = "No such project")))]
pub async fn show_project(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ProjectResponse>, Error> {
    let p = app::get(&state, &auth, &id).await?;
    let base = v3_base(&state, &headers);
    Ok(Json(ProjectResponse {
        project: ProjectView::load(&state, p, &base).await?,
    }))
}

/// Updates a project (admin); disabling it revokes its tokens.
#[utoipa::path(patch, path = "/v3/projects/{project_id}", tag = "projects",
    params(("project_id" = String, Path, description = "The project")),
    request_body = ProjectPatchRequest,
    security(("token" = [])),
    responses((status = 200, description = "Updated", body = ProjectResponse)))]
pub async fn update_project(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<ProjectPatchRequest>,
) -> Result<Json<ProjectResponse>, Error> {
    let p = body.project;
    if let Some(name) = &p.name {
        check_name("project/name", name)?;
    }
    if let Some(tags) = &p.tags {
        check_tags(tags)?;
    }
    let change = ProjectUpdate {
        name: p.name,
        description: p.description,
        enabled: p.enabled,
    };
    let updated = app::update(&state, &auth, &id, change, p.tags).await?;
    let base = v3_base(&state, &headers);
    Ok(Json(ProjectResponse {
        project: ProjectView::load(&state, updated, &base).await?,
    }))
}

/// Deletes a project without children (admin); its tokens stop working.
#[utoipa::path(delete, path = "/v3/projects/{project_id}", tag = "projects",
    params(("project_id" = String, Path, description = "The project")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 409, description = "The project has children")))]
pub async fn delete_project(
    auth: Auth,
    State(state): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The projects a user has a role on (the user or admin).
#[utoipa::path(get, path = "/v3/users/{user_id}/projects", tag = "projects",
    params(("user_id" = String, Path, description = "The user")),
    security(("token" = [])),
    responses((status = 200, description = "Projects", body = ProjectsResponse)))]
pub async fn list_user_projects(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Json<ProjectsResponse>, Error> {
    let t = Target::new().with("user_id", user_id.clone());
    auth.enforce_visible("identity:list_user_projects", &t, "user", &user_id)?;
    let projects = app::of_user(&state, &user_id).await?;
    let base = v3_base(&state, &headers);
    let path = format!("/v3/users/{user_id}/projects");
    Ok(Json(ProjectsResponse {
        projects: ProjectView::many(&state, projects, &base).await?,
        links: CollectionLinks::plain(&state, &headers, &path),
    }))
}

/// The projects the caller may scope a token to.
#[utoipa::path(get, path = "/v3/auth/projects", tag = "auth",
    security(("token" = [])),
    responses((status = 200, description = "Projects", body = ProjectsResponse)))]
pub async fn auth_projects(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
) -> Result<Json<ProjectsResponse>, Error> {
    let projects = app::of_user(&state, &auth.claims().sub).await?;
    let base = v3_base(&state, &headers);
    Ok(Json(ProjectsResponse {
        projects: ProjectView::many(&state, projects, &base).await?,
        links: CollectionLinks::plain(&state, &headers, "/v3/auth/projects"),
    }))
}
