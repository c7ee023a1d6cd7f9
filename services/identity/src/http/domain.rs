//! `/v3/domains` and the caller's domains and system scope under `/v3/auth`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_common::pagination::PageQuery;
use virga_service::auth::Auth;

use super::{CollectionLinks, SelfLink, page_request, parse_bool, v3_base};
use crate::app::{IdentityState, domain as app};
use crate::db::assignment::{self, AssignmentFilter, TargetType};
use crate::db::domain::{self, DomainFilter, DomainUpdate, NewDomain};

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub tags: Vec<String>,
    pub options: serde_json::Map<String, serde_json::Value>,
    pub links: SelfLink,
}

impl DomainView {
    pub fn new(d: domain::Model, base: &str) -> Self {
        DomainView {
            links: SelfLink::to(base, &format!("domains/{}", d.id)),
            id: d.id,
            name: d.name,
            description: d.description,
            enabled: d.enabled,
            tags: Vec::new(),
            options: Default::default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainResponse {
    pub domain: DomainView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainsResponse {
    pub domains: Vec<DomainView>,
    pub links: CollectionLinks,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainCreate {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainCreateRequest {
    pub domain: DomainCreate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainPatchRequest {
    pub domain: DomainPatch,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DomainListQuery {
    pub name: Option<String>,
    pub enabled: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    pub page: PageQuery,
}

/// Lists domains (admin), filtered by name or enabled.
#[utoipa::path(get, path = "/v3/domains", tag = "domains", params(DomainListQuery, PageQuery),
    security(("token" = [])),
    responses((status = 200, description = "Domains", body = DomainsResponse)))]
pub async fn list_domains(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<DomainListQuery>,
) -> Result<Json<DomainsResponse>, Error> {
    let req = page_request(&q.page)?;
    let filter = DomainFilter {
        name: q.name.clone(),
        enabled: parse_bool("enabled", &q.enabled)?,
    };
    let page = app::list(&state, &auth, &filter, &req).await?;
    let base = v3_base(&state, &headers);
    let params = super::query_params(&[("name", &q.name), ("enabled", &q.enabled)]);
    let links = CollectionLinks::page(&state, &headers, "/v3/domains", &params, &page, &req);
    Ok(Json(DomainsResponse {
        domains: page
            .items
            .into_iter()
            .map(|d| DomainView::new(d, &base))
            .collect(),
        links,
    }))
}

/// Creates a domain (admin). Names are unique: a duplicate is 409.
#[utoipa::path(post, path = "/v3/domains", tag = "domains", request_body = DomainCreateRequest,
    security(("token" = [])),
    responses((status = 201, description = "Created", body = DomainResponse),
              (status = 409, description = "Duplicate name")))]
pub async fn create_domain(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Json(body): Json<DomainCreateRequest>,
) -> Result<(StatusCode, Json<DomainResponse>), Error> {
    let d = body.domain;
    super::check_name("domain/name", &d.name)?;
    let new = NewDomain {
        name: d.name,
        description: d.description,
        enabled: d.enabled,
    };
    let created = app::create(&state, &auth, new).await?;
    let base = v3_base(&state, &headers);
    Ok((
        StatusCode::CREATED,
        Json(DomainResponse {
            domain: DomainView::new(created, &base),
        }),
    ))
}

/// Shows a domain.
#[utoipa::path(get, path = "/v3/domains/{domain_id}", tag = "domains",
    params(("domain_id" = String, Path, description = "The domain")),
    security(("token" = [])),
    responses((status = 200, description = "The domain", body = DomainResponse),
              (status = 404, description = "No such domain")))]
pub async fn show_domain(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<DomainResponse>, Error> {
    let d = app::get(&state, &auth, &id).await?;
    Ok(Json(DomainResponse {
        domain: DomainView::new(d, &v3_base(&state, &headers)),
    }))
}

/// Updates a domain (admin); disabling it revokes its users' and projects' tokens.
#[utoipa::path(patch, path = "/v3/domains/{domain_id}", tag = "domains",
    params(("domain_id" = String, Path, description = "The domain")),
    request_body = DomainPatchRequest,
    security(("token" = [])),
    responses((status = 200, description = "Updated", body = DomainResponse)))]
pub async fn update_domain(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<DomainPatchRequest>,
) -> Result<Json<DomainResponse>, Error> {
    let p = body.domain;
    if let Some(name) = &p.name {
        super::check_name("domain/name", name)?;
    }
    let change = DomainUpdate {
        name: p.name,
        description: p.description,
        enabled: p.enabled,
    };
    let d = app::update(&state, &auth, &id, change).await?;
    Ok(Json(DomainResponse {
        domain: DomainView::new(d, &v3_base(&state, &headers)),
    }))
}

/// Deletes a disabled, empty domain (admin).
#[utoipa::path(delete, path = "/v3/domains/{domain_id}", tag = "domains",
    params(("domain_id" = String, Path, description = "The domain")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 409, description = "Enabled or not empty")))]
pub async fn delete_domain(
    auth: Auth,
    State(state): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The domains the caller has a role on.
#[utoipa::path(get, path = "/v3/auth/domains", tag = "auth",
    security(("token" = [])),
    responses((status = 200, description = "Domains", body = DomainsResponse)))]
pub async fn auth_domains(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
) -> Result<Json<DomainsResponse>, Error> {
    let db = state.ctx.db();
    let filter = AssignmentFilter {
        user_id: Some(auth.claims().sub.clone()),
        effective: true,
        ..Default::default()
    };
    let mut ids: Vec<String> = assignment::list(db, &filter)
        .await?
        .into_iter()
        .filter(|a| a.target_type == TargetType::Domain)
        .map(|a| a.target_id)
        .collect();
    ids.sort();
    ids.dedup();
    let base = v3_base(&state, &headers);
    let mut domains = Vec::new();
    for id in ids {
        match domain::get(db, &id).await {
            Ok(d) if d.enabled => domains.push(DomainView::new(d, &base)),
            Ok(_) | Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Json(DomainsResponse {
        domains,
        links: CollectionLinks::plain(&state, &headers, "/v3/auth/domains"),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SystemResponse {
    /// `[{"all": true}]` when the caller has a role on the system, else empty.
    pub system: Vec<serde_json::Value>,
    pub links: CollectionLinks,
}

/// Whether the caller may scope a token to the system.
#[utoipa::path(get, path = "/v3/auth/system", tag = "auth",
    security(("token" = [])),
    responses((status = 200, description = "System scopes", body = SystemResponse)))]
pub async fn auth_system(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
) -> Result<Json<SystemResponse>, Error> {
    let roles = assignment::roles_for(
        state.ctx.db(),
        &auth.claims().sub,
        &assignment::Target::System,
    )
    .await?;
    let system = if roles.is_empty() {
        Vec::new()
    } else {
        vec![serde_json::json!({"all": true})]
    };
    Ok(Json(SystemResponse {
        system,
        links: CollectionLinks::plain(&state, &headers, "/v3/auth/system"),
    }))
}
