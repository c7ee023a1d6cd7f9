//! `/v3/regions`: the central cloud's regions and the edge sites below them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_common::pagination::PageQuery;
use virga_service::auth::Auth;

use super::{CollectionLinks, SelfLink, page_request, v3_base};
use crate::app::{IdentityState, region as app};
use crate::db::region::{self, NewRegion, RegionUpdate};

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionView {
    pub id: String,
    /// Never null: Keystone shows an empty description.
    pub description: String,
    pub parent_region_id: Option<String>,
    pub links: SelfLink,
}

impl RegionView {
    pub fn new(r: region::Model, base: &str) -> Self {
        RegionView {
            links: SelfLink::to(base, &format!("regions/{}", r.id)),
            id: r.id,
            description: r.description.unwrap_or_default(),
            parent_region_id: r.parent_region_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionResponse {
    pub region: RegionView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionsResponse {
    pub regions: Vec<RegionView>,
    pub links: CollectionLinks,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionCreate {
    /// Chosen by the caller; made up when absent or empty.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parent_region_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionCreateRequest {
    pub region: RegionCreate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionPatch {
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub parent_region_id: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionPatchRequest {
    pub region: RegionPatch,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RegionListQuery {
    pub parent_region_id: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    pub page: PageQuery,
}

fn check_region_id(field: &str, id: &str) -> Result<(), Error> {
    if id.chars().count() > 255 {
        return Err(Error::BadRequest(format!(
            "Invalid input for field '{field}': at most 255 characters."
        )));
    }
    Ok(())
}

fn check_description(d: &Option<String>) -> Result<(), Error> {
    if d.as_ref().is_some_and(|d| d.chars().count() > 255) {
        return Err(Error::BadRequest(
            "Invalid input for field 'region/description': at most 255 characters.".into(),
        ));
    }
    Ok(())
}

fn new_region(r: RegionCreate) -> Result<NewRegion, Error> {
    check_description(&r.description)?;
    let id = r.id.filter(|id| !id.is_empty());
    if let Some(id) = &id {
        check_region_id("region/id", id)?;
    }
    if let Some(p) = &r.parent_region_id {
        check_region_id("region/parent_region_id", p)?;
    }
    Ok(NewRegion {
        id,
        description: r.description,
        parent_region_id: r.parent_region_id,
    })
}

/// Lists regions, optionally the children of one (`parent_region_id`).
#[utoipa::path(get, path = "/v3/regions", tag = "regions", params(RegionListQuery, PageQuery),
    security(("token" = [])),
    responses((status = 200, description = "Regions", body = RegionsResponse)))]
pub async fn list_regions(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<RegionListQuery>,
) -> Result<Json<RegionsResponse>, Error> {
    let req = page_request(&q.page)?;
    let page = app::list(&state, &auth, q.parent_region_id.as_deref(), &req).await?;
    let params = super::query_params(&[("parent_region_id", &q.parent_region_id)]);
    let links = CollectionLinks::page(&state, &headers, "/v3/regions", &params, &page, &req);
    let base = v3_base(&state, &headers);
    Ok(Json(RegionsResponse {
        regions: page
            .items
            .into_iter()
            .map(|r| RegionView::new(r, &base))
            .collect(),
        links,
    }))
}

/// Creates a region (admin), with the caller's id if given. An unknown
/// parent is 400, a taken id 409.
#[utoipa::path(post, path = "/v3/regions", tag = "regions", request_body = RegionCreateRequest,
    security(("token" = [])),
    responses((status = 201, description = "Created", body = RegionResponse),
              (status = 400, description = "Unknown parent region"),
              (status = 409, description = "Duplicate id")))]
pub async fn create_region(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Json(body): Json<RegionCreateRequest>,
) -> Result<(StatusCode, Json<RegionResponse>), Error> {
    let created = app::create(&state, &auth, new_region(body.region)?).await?;
    Ok((
        StatusCode::CREATED,
        Json(RegionResponse {
            region: RegionView::new(created, &v3_base(&state, &headers)),
        }),
    ))
}

/// Creates a region with the id in the path (admin), as Keystone's PUT
/// does; an id in the body must match it.
#[utoipa::path(put, path = "/v3/regions/{region_id}", tag = "regions",
    params(("region_id" = String, Path, description = "The region's new id")),
    request_body = RegionCreateRequest,
    security(("token" = [])),
    responses((status = 201, description = "Created", body = RegionResponse),
              (status = 400, description = "Conflicting ids or unknown parent"),
              (status = 409, description = "Duplicate id")))]
pub async fn put_region(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<RegionCreateRequest>,
) -> Result<(StatusCode, Json<RegionResponse>), Error> {
    let mut r = body.region;
    if let Some(given) = r.id.as_deref().filter(|g| !g.is_empty() && *g != id) {
        return Err(Error::BadRequest(format!(
            "Conflicting region IDs specified: \"{id}\" != \"{given}\""
        )));
    }
    r.id = Some(id);
    let created = app::create(&state, &auth, new_region(r)?).await?;
    Ok((
        StatusCode::CREATED,
        Json(RegionResponse {
            region: RegionView::new(created, &v3_base(&state, &headers)),
        }),
    ))
}

/// Shows a region.
#[utoipa::path(get, path = "/v3/regions/{region_id}", tag = "regions",
    params(("region_id" = String, Path, description = "The region")),
    security(("token" = [])),
    responses((status = 200, description = "The region", body = RegionResponse),
              (status = 404, description = "No such region")))]
pub async fn show_region(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<RegionResponse>, Error> {
    let r = app::get(&state, &auth, &id).await?;
    Ok(Json(RegionResponse {
        region: RegionView::new(r, &v3_base(&state, &headers)),
    }))
}

/// Updates a region's description or parent (admin); a parent that is
/// unknown or would make a cycle is 400.
#[utoipa::path(patch, path = "/v3/regions/{region_id}", tag = "regions",
    params(("region_id" = String, Path, description = "The region")),
    request_body = RegionPatchRequest,
    security(("token" = [])),
    responses((status = 200, description = "Updated", body = RegionResponse),
              (status = 400, description = "Unknown parent or a cycle")))]
pub async fn update_region(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<RegionPatchRequest>,
) -> Result<Json<RegionResponse>, Error> {
    let p = body.region;
    if let Some(d) = &p.description {
        check_description(d)?;
    }
    let change = RegionUpdate {
        description: p.description,
        parent_region_id: p.parent_region_id,
    };
    let r = app::update(&state, &auth, &id, change).await?;
    Ok(Json(RegionResponse {
        region: RegionView::new(r, &v3_base(&state, &headers)),
    }))
}

/// Deletes a region (admin); one with child regions or endpoints is 409.
#[utoipa::path(delete, path = "/v3/regions/{region_id}", tag = "regions",
    params(("region_id" = String, Path, description = "The region")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 409, description = "The region has child regions or endpoints")))]
pub async fn delete_region(
    auth: Auth,
    State(state): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
