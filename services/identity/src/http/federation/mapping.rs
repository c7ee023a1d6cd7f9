//! `/v3/OS-FEDERATION/mappings`: rules from a provider's claims to local
//! users and groups.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use virga_common::Error;
use virga_common::pagination::PageQuery;
use virga_service::auth::Auth;

use super::identity_provider::{check_id, same_id};
use crate::app::IdentityState;
use crate::app::federation::mapping as app;
use crate::db::federation::mapping;
use crate::http::{CollectionLinks, SelfLink, page_request, v3_base};

#[derive(Debug, Serialize, ToSchema)]
pub struct MappingView {
    pub id: String,
    #[schema(value_type = Vec<Object>)]
    pub rules: serde_json::Value,
    pub schema_version: String,
    pub links: SelfLink,
}

impl MappingView {
    pub fn new(m: mapping::Model, base: &str) -> Result<Self, Error> {
        Ok(MappingView {
            links: SelfLink::to(base, &format!("OS-FEDERATION/mappings/{}", m.id)),
            rules: serde_json::from_str(&m.rules).map_err(Error::internal)?,
            id: m.id,
            schema_version: m.schema_version,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MappingResponse {
    pub mapping: MappingView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MappingsResponse {
    pub mappings: Vec<MappingView>,
    pub links: CollectionLinks,
}

/// Rules: `[{"local": [...], "remote": [...]}]` in Keystone's language.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingBody {
    /// Sent by python-keystoneclient; must match the path.
    #[serde(default)]
    pub id: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub rules: serde_json::Value,
    /// `1.0` (default), `2.0` or `3.0`.
    #[serde(default)]
    pub schema_version: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingRequest {
    pub mapping: MappingBody,
}

/// Lists mappings.
#[utoipa::path(get, path = "/v3/OS-FEDERATION/mappings", tag = "federation",
    params(PageQuery), security(("token" = [])),
    responses((status = 200, description = "Mappings", body = MappingsResponse)))]
pub async fn list_mappings(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Json<MappingsResponse>, Error> {
    let req = page_request(&q)?;
    let page = app::list(&state, &auth, &req).await?;
    let path = "/v3/OS-FEDERATION/mappings";
    let links = CollectionLinks::page(&state, &headers, path, &[], &page, &req);
    let base = v3_base(&state, &headers);
    let mappings = page
        .items
        .into_iter()
        .map(|m| MappingView::new(m, &base))
        .collect::<Result<_, _>>()?;
    Ok(Json(MappingsResponse { mappings, links }))
}

/// Creates a mapping under the id in the path (admin). Rules that do not
/// parse are 400 naming the problem; a taken id is 409.
#[utoipa::path(put, path = "/v3/OS-FEDERATION/mappings/{mapping_id}", tag = "federation",
    params(("mapping_id" = String, Path, description = "The new mapping's id")),
    request_body = MappingRequest, security(("token" = [])),
    responses((status = 201, description = "Created", body = MappingResponse),
              (status = 400, description = "Invalid rules"),
              (status = 409, description = "Duplicate id")))]
pub async fn create_mapping(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<MappingRequest>,
) -> Result<(StatusCode, Json<MappingResponse>), Error> {
    check_id("mapping_id", &id)?;
    let b = body.mapping;
    same_id("mapping", &id, &b.id)?;
    let m = app::create(&state, &auth, &id, &b.rules, b.schema_version).await?;
    let mapping = MappingView::new(m, &v3_base(&state, &headers))?;
    Ok((StatusCode::CREATED, Json(MappingResponse { mapping })))
}

/// Shows a mapping.
#[utoipa::path(get, path = "/v3/OS-FEDERATION/mappings/{mapping_id}", tag = "federation",
    params(("mapping_id" = String, Path, description = "The mapping")), security(("token" = [])),
    responses((status = 200, description = "The mapping", body = MappingResponse),
              (status = 404, description = "No such mapping")))]
pub async fn show_mapping(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<MappingResponse>, Error> {
    let m = app::get(&state, &auth, &id).await?;
    let mapping = MappingView::new(m, &v3_base(&state, &headers))?;
    Ok(Json(MappingResponse { mapping }))
}

/// Replaces a mapping's rules (admin); the next logins use them.
#[utoipa::path(patch, path = "/v3/OS-FEDERATION/mappings/{mapping_id}", tag = "federation",
    params(("mapping_id" = String, Path, description = "The mapping")),
    request_body = MappingRequest, security(("token" = [])),
    responses((status = 200, description = "Updated", body = MappingResponse),
              (status = 400, description = "Invalid rules")))]
pub async fn update_mapping(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<MappingRequest>,
) -> Result<Json<MappingResponse>, Error> {
    let b = body.mapping;
    same_id("mapping", &id, &b.id)?;
    let m = app::update(&state, &auth, &id, &b.rules, b.schema_version).await?;
    let mapping = MappingView::new(m, &v3_base(&state, &headers))?;
    Ok(Json(MappingResponse { mapping }))
}

/// Deletes a mapping (admin); one a protocol uses is 409.
#[utoipa::path(delete, path = "/v3/OS-FEDERATION/mappings/{mapping_id}", tag = "federation",
    params(("mapping_id" = String, Path, description = "The mapping")), security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 409, description = "A protocol uses it")))]
pub async fn delete_mapping(
    auth: Auth,
    State(state): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
