//! `/v3/services` and `/v3/endpoints`: what the token catalog is made of.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_service::auth::Auth;

use super::{CollectionLinks, SelfLink, v3_base};
use crate::app::{IdentityState, catalog as app};
use crate::db::catalog::{
    EndpointFilter, EndpointUpdate, INTERFACES, NewEndpoint, NewService, ServiceUpdate, endpoint,
    service,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub id: String,
    #[serde(rename = "type")]
    pub service_type: String,
    /// Keystone shows an empty name for a service without one.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    pub links: SelfLink,
}

impl ServiceView {
    pub fn new(s: service::Model, base: &str) -> Self {
        ServiceView {
            links: SelfLink::to(base, &format!("services/{}", s.id)),
            id: s.id,
            service_type: s.service_type,
            name: s.name.unwrap_or_default(),
            description: s.description,
            enabled: s.enabled,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceResponse {
    pub service: ServiceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServicesResponse {
    pub services: Vec<ServiceView>,
    pub links: CollectionLinks,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCreate {
    #[serde(rename = "type")]
    pub service_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCreateRequest {
    pub service: ServiceCreate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    #[serde(default, rename = "type")]
    pub service_type: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatchRequest {
    pub service: ServicePatch,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ServiceListQuery {
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub service_type: Option<String>,
}

fn check_type(t: &str) -> Result<(), Error> {
    if t.is_empty() || t.chars().count() > 255 {
        return Err(Error::BadRequest(
            "Invalid input for field 'service/type': 1 to 255 characters.".into(),
        ));
    }
    Ok(())
}

/// Lists services, optionally of one type.
#[utoipa::path(get, path = "/v3/services", tag = "services", params(ServiceListQuery),
    security(("token" = [])),
    responses((status = 200, description = "Services", body = ServicesResponse)))]
pub async fn list_services(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<ServiceListQuery>,
) -> Result<Json<ServicesResponse>, Error> {
    let services = app::list_services(&state, &auth, q.service_type.as_deref()).await?;
    let base = v3_base(&state, &headers);
    let path = match &q.service_type {
        Some(t) => format!("/v3/services?type={t}"),
        None => "/v3/services".into(),
    };
    Ok(Json(ServicesResponse {
        services: services
            .into_iter()
            .map(|s| ServiceView::new(s, &base))
            .collect(),
        links: CollectionLinks::plain(&state, &headers, &path),
    }))
}

/// Creates a service (admin).
#[utoipa::path(post, path = "/v3/services", tag = "services", request_body = ServiceCreateRequest,
    security(("token" = [])),
    responses((status = 201, description = "Created", body = ServiceResponse)))]
pub async fn create_service(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Json(body): Json<ServiceCreateRequest>,
) -> Result<(StatusCode, Json<ServiceResponse>), Error> {
    let s = body.service;
    check_type(&s.service_type)?;
    if let Some(name) = &s.name {
        super::check_name("service/name", name)?;
    }
    let new = NewService {
        service_type: s.service_type,
        name: s.name,
        description: s.description,
        enabled: s.enabled,
    };
    let created = app::create_service(&state, &auth, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(ServiceResponse {
            service: ServiceView::new(created, &v3_base(&state, &headers)),
        }),
    ))
}

/// Shows a service.
#[utoipa::path(get, path = "/v3/services/{service_id}", tag = "services",
    params(("service_id" = String, Path, description = "The service")),
    security(("token" = [])),
    responses((status = 200, description = "The service", body = ServiceResponse),
              (status = 404, description = "No such service")))]
pub async fn show_service(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ServiceResponse>, Error> {
    let s = app::get_service(&state, &auth, &id).await?;
    Ok(Json(ServiceResponse {
        service: ServiceView::new(s, &v3_base(&state, &headers)),
    }))
}

/// Updates a service (admin); a disabled service leaves new tokens' catalogs.
#[utoipa::path(patch, path = "/v3/services/{service_id}", tag = "services",
    params(("service_id" = String, Path, description = "The service")),
    request_body = ServicePatchRequest,
    security(("token" = [])),
    responses((status = 200, description = "Updated", body = ServiceResponse)))]
pub async fn update_service(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<ServicePatchRequest>,
) -> Result<Json<ServiceResponse>, Error> {
    let p = body.service;
    if let Some(t) = &p.service_type {
        check_type(t)?;
    }
    if let Some(Some(name)) = &p.name {
        super::check_name("service/name", name)?;
    }
    let change = ServiceUpdate {
        service_type: p.service_type,
        name: p.name,
        description: p.description,
        enabled: p.enabled,
    };
    let s = app::update_service(&state, &auth, &id, change).await?;
    Ok(Json(ServiceResponse {
        service: ServiceView::new(s, &v3_base(&state, &headers)),
    }))
}

/// Deletes a service and its endpoints (admin).
#[utoipa::path(delete, path = "/v3/services/{service_id}", tag = "services",
    params(("service_id" = String, Path, description = "The service")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_service(
    auth: Auth,
    State(state): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete_service(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    pub id: String,
    pub interface: String,
    pub region_id: Option<String>,
    /// The region id again, under its deprecated name.
    pub region: Option<String>,
    pub service_id: String,
    pub url: String,
    pub enabled: bool,
    pub links: SelfLink,
}

impl EndpointView {
    pub fn new(e: endpoint::Model, base: &str) -> Self {
        EndpointView {
            links: SelfLink::to(base, &format!("endpoints/{}", e.id)),
            id: e.id,
            interface: e.interface,
            region: e.region_id.clone(),
            region_id: e.region_id,
            service_id: e.service_id,
            url: e.url,
            enabled: e.enabled,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointResponse {
    pub endpoint: EndpointView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointsResponse {
    pub endpoints: Vec<EndpointView>,
    pub links: CollectionLinks,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointCreate {
    /// `public`, `internal` or `admin`.
    pub interface: String,
    pub service_id: String,
    pub url: String,
    #[serde(default)]
    pub region_id: Option<String>,
    /// Deprecated: `region_id` under its old name.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointCreateRequest {
    pub endpoint: EndpointCreate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    #[serde(default)]
    pub interface: Option<String>,
    #[serde(default)]
    pub service_id: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub region_id: Option<Option<String>>,
    /// Deprecated: `region_id` under its old name.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatchRequest {
    pub endpoint: EndpointPatch,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EndpointListQuery {
    pub service_id: Option<String>,
    pub region_id: Option<String>,
    pub interface: Option<String>,
}

fn check_interface(interface: &str) -> Result<(), Error> {
    if !INTERFACES.contains(&interface) {
        return Err(Error::BadRequest(format!(
            "Invalid input for field 'endpoint/interface': {interface} is not one of public, internal, admin."
        )));
    }
    Ok(())
}

/// Keystone's URL check: a scheme, a colon, something after it.
fn check_url(url: &str) -> Result<(), Error> {
    let ok = url.chars().count() <= 225
        && url.split_once(':').is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && !rest.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        });
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "Cannot create an endpoint with an invalid URL: {url}."
        )))
    }
}

/// Lists endpoints, filtered by service, region or interface.
#[utoipa::path(get, path = "/v3/endpoints", tag = "endpoints", params(EndpointListQuery),
    security(("token" = [])),
    responses((status = 200, description = "Endpoints", body = EndpointsResponse)))]
pub async fn list_endpoints(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<EndpointListQuery>,
) -> Result<Json<EndpointsResponse>, Error> {
    let filter = EndpointFilter {
        service_id: q.service_id.clone(),
        region_id: q.region_id.clone(),
        interface: q.interface.clone(),
    };
    let endpoints = app::list_endpoints(&state, &auth, &filter).await?;
    let base = v3_base(&state, &headers);
    let params = super::query_params(&[
        ("service_id", &q.service_id),
        ("region_id", &q.region_id),
        ("interface", &q.interface),
    ]);
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let path = if query.is_empty() {
        "/v3/endpoints".to_string()
    } else {
        format!("/v3/endpoints?{}", query.join("&"))
    };
    Ok(Json(EndpointsResponse {
        endpoints: endpoints
            .into_iter()
            .map(|e| EndpointView::new(e, &base))
            .collect(),
        links: CollectionLinks::plain(&state, &headers, &path),
    }))
}

/// Creates an endpoint (admin). `region` is accepted for `region_id`; an
/// invalid interface or URL, or an unknown service or region, is 400.
#[utoipa::path(post, path = "/v3/endpoints", tag = "endpoints", request_body = EndpointCreateRequest,
    security(("token" = [])),
    responses((status = 201, description = "Created", body = EndpointResponse),
              (status = 400, description = "Invalid interface or URL, unknown service or region")))]
pub async fn create_endpoint(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Json(body): Json<EndpointCreateRequest>,
) -> Result<(StatusCode, Json<EndpointResponse>), Error> {
    let e = body.endpoint;
    check_interface(&e.interface)?;
    check_url(&e.url)?;
    let new = NewEndpoint {
        service_id: e.service_id,
        region_id: e.region_id.or(e.region),
        interface: e.interface,
        url: e.url,
        enabled: e.enabled,
    };
    let created = app::create_endpoint(&state, &auth, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(EndpointResponse {
            endpoint: EndpointView::new(created, &v3_base(&state, &headers)),
        }),
    ))
}

/// Shows an endpoint.
#[utoipa::path(get, path = "/v3/endpoints/{endpoint_id}", tag = "endpoints",
    params(("endpoint_id" = String, Path, description = "The endpoint")),
    security(("token" = [])),
    responses((status = 200, description = "The endpoint", body = EndpointResponse),
              (status = 404, description = "No such endpoint")))]
pub async fn show_endpoint(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<EndpointResponse>, Error> {
    let e = app::get_endpoint(&state, &auth, &id).await?;
    Ok(Json(EndpointResponse {
        endpoint: EndpointView::new(e, &v3_base(&state, &headers)),
    }))
}

/// Updates an endpoint (admin), with the same checks as its creation.
#[utoipa::path(patch, path = "/v3/endpoints/{endpoint_id}", tag = "endpoints",
    params(("endpoint_id" = String, Path, description = "The endpoint")),
    request_body = EndpointPatchRequest,
    security(("token" = [])),
    responses((status = 200, description = "Updated", body = EndpointResponse),
              (status = 400, description = "Invalid interface or URL, unknown service or region")))]
pub async fn update_endpoint(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<EndpointPatchRequest>,
) -> Result<Json<EndpointResponse>, Error> {
    let p = body.endpoint;
    if let Some(i) = &p.interface {
        check_interface(i)?;
    }
    if let Some(u) = &p.url {
        check_url(u)?;
    }
    let change = EndpointUpdate {
        service_id: p.service_id,
        region_id: p.region_id.or(p.region),
        interface: p.interface,
        url: p.url,
        enabled: p.enabled,
    };
    let e = app::update_endpoint(&state, &auth, &id, change).await?;
    Ok(Json(EndpointResponse {
        endpoint: EndpointView::new(e, &v3_base(&state, &headers)),
    }))
}

/// Deletes an endpoint (admin).
#[utoipa::path(delete, path = "/v3/endpoints/{endpoint_id}", tag = "endpoints",
    params(("endpoint_id" = String, Path, description = "The endpoint")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_endpoint(
    auth: Auth,
    State(state): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete_endpoint(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
