//! The service catalog as tokens carry it: every enabled service with its
//! enabled endpoints, one per interface and region. A region per central
//! cloud and per edge site means a client reads from the catalog which
//! services each site offers and where.
//!
//! Also the services and endpoints API's logic: policy checks, the store
//! and the audit trail.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::Error;
use virga_db::sea_orm::ConnectionTrait;
use virga_policy::Target;
use virga_service::auth::Auth;

use super::{IdentityState, audit};
use crate::db::catalog::{
    self, EndpointFilter, EndpointUpdate, NewEndpoint, NewService, ServiceUpdate, endpoint, service,
};
use crate::db::region;

fn service_target(id: &str) -> Target {
    Target::new().with("service_id", id)
}

fn endpoint_target(id: &str) -> Target {
    Target::new().with("endpoint_id", id)
}

pub async fn get_service(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
) -> Result<service::Model, Error> {
    auth.enforce("identity:get_service", &service_target(id))?;
    catalog::get_service(state.ctx.db(), id).await
}

pub async fn list_services(
    state: &IdentityState,
    auth: &Auth,
    service_type: Option<&str>,
) -> Result<Vec<service::Model>, Error> {
    auth.enforce("identity:list_services", &Target::new())?;
    catalog::list_services(state.ctx.db(), service_type).await
}

pub async fn create_service(
    state: &IdentityState,
    auth: &Auth,
    new: NewService,
) -> Result<service::Model, Error> {
    auth.enforce("identity:create_service", &Target::new())?;
    let s = catalog::create_service(state.ctx.db(), new).await?;
    audit::change(state, auth, "identity:create_service", "service", &s.id).await;
    Ok(s)
}

pub async fn update_service(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    change: ServiceUpdate,
) -> Result<service::Model, Error> {
    auth.enforce("identity:update_service", &service_target(id))?;
    let s = catalog::update_service(state.ctx.db(), id, change).await?;
    audit::change(state, auth, "identity:update_service", "service", id).await;
    Ok(s)
}

/// Deletes a service and, as Keystone does, its endpoints.
pub async fn delete_service(state: &IdentityState, auth: &Auth, id: &str) -> Result<(), Error> {
    auth.enforce("identity:delete_service", &service_target(id))?;
    catalog::delete_service(state.ctx.db(), id).await?;
    audit::change(state, auth, "identity:delete_service", "service", id).await;
    Ok(())
}

pub async fn get_endpoint(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
) -> Result<endpoint::Model, Error> {
    auth.enforce("identity:get_endpoint", &endpoint_target(id))?;
    catalog::get_endpoint(state.ctx.db(), id).await
}

pub async fn list_endpoints(
    state: &IdentityState,
    auth: &Auth,
    filter: &EndpointFilter,
) -> Result<Vec<endpoint::Model>, Error> {
    auth.enforce("identity:list_endpoints", &Target::new())?;
    catalog::list_endpoints(state.ctx.db(), filter).await
}

/// Creates an endpoint; an unknown service or region is a bad request.
pub async fn create_endpoint(
    state: &IdentityState,
    auth: &Auth,
    new: NewEndpoint,
) -> Result<endpoint::Model, Error> {
    auth.enforce("identity:create_endpoint", &Target::new())?;
    references_exist(state, Some(&new.service_id), new.region_id.as_deref()).await?;
    let e = catalog::create_endpoint(state.ctx.db(), new).await?;
    audit::change(state, auth, "identity:create_endpoint", "endpoint", &e.id).await;
    Ok(e)
}

pub async fn update_endpoint(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    change: EndpointUpdate,
) -> Result<endpoint::Model, Error> {
    auth.enforce("identity:update_endpoint", &endpoint_target(id))?;
    let region = change.region_id.clone().flatten();
    references_exist(state, change.service_id.as_deref(), region.as_deref()).await?;
    let e = catalog::update_endpoint(state.ctx.db(), id, change).await?;
    audit::change(state, auth, "identity:update_endpoint", "endpoint", id).await;
    Ok(e)
}

pub async fn delete_endpoint(state: &IdentityState, auth: &Auth, id: &str) -> Result<(), Error> {
    auth.enforce("identity:delete_endpoint", &endpoint_target(id))?;
    catalog::delete_endpoint(state.ctx.db(), id).await?;
    audit::change(state, auth, "identity:delete_endpoint", "endpoint", id).await;
    Ok(())
}

/// Keystone's 400 for an endpoint naming a service or region that is not there.
async fn references_exist(
    state: &IdentityState,
    service_id: Option<&str>,
    region_id: Option<&str>,
) -> Result<(), Error> {
    let db = state.ctx.db();
    let missing = |what: &str, table: &str| {
        Error::BadRequest(format!(
            "Expecting to find endpoint {what} in {table} table. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
        ))
    };
    if let Some(id) = service_id {
        match catalog::get_service(db, id).await {
            Ok(_) => {}
            Err(Error::NotFound { .. }) => return Err(missing("service_id", "service")),
            Err(e) => return Err(e),
        }
    }
    if let Some(id) = region_id {
        match region::get(db, id).await {
            Ok(_) => {}
            Err(Error::NotFound { .. }) => return Err(missing("region_id", "region")),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogEntry {
    pub endpoints: Vec<CatalogEndpoint>,
    pub id: String,
    #[serde(rename = "type")]
    pub service_type: String,
    /// Keystone shows an empty name for a service without one.
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogEndpoint {
    pub id: String,
    pub interface: String,
    /// The region id again, under its pre-v3 name, which clients still read.
    pub region: Option<String>,
    pub region_id: Option<String>,
    pub url: String,
}

/// The catalog for a token scoped to `project_id` (if any). Endpoint URLs
/// may name the project (`$(project_id)s`, `%(tenant_id)s`, ...); such an
/// endpoint is left out of a catalog for a token without a project, as
/// Keystone does, since its URL cannot be completed.
pub async fn build(
    db: &impl ConnectionTrait,
    project_id: Option<&str>,
) -> Result<Vec<CatalogEntry>, Error> {
    let services = catalog::list_services(db, None).await?;
    let endpoints = catalog::list_endpoints(db, &EndpointFilter::default()).await?;
    let mut out = Vec::new();
    for service in services.into_iter().filter(|s| s.enabled) {
        let endpoints = endpoints
            .iter()
            .filter(|e| e.service_id == service.id && e.enabled)
            .filter_map(|e| {
                Some(CatalogEndpoint {
                    id: e.id.clone(),
                    interface: e.interface.clone(),
                    region: e.region_id.clone(),
                    region_id: e.region_id.clone(),
                    url: complete_url(&e.url, project_id)?,
                })
            })
            .collect();
        out.push(CatalogEntry {
            endpoints,
            id: service.id,
            service_type: service.service_type,
            name: service.name.unwrap_or_default(),
        });
    }
    Ok(out)
}

const PROJECT_PLACEHOLDERS: [&str; 4] = [
    "$(project_id)s",
    "%(project_id)s",
    "$(tenant_id)s",
    "%(tenant_id)s",
];

fn complete_url(url: &str, project_id: Option<&str>) -> Option<String> {
    if !PROJECT_PLACEHOLDERS.iter().any(|p| url.contains(p)) {
        return Some(url.to_string());
    }
    let project_id = project_id?;
    Some(
        PROJECT_PLACEHOLDERS
            .iter()
            .fold(url.to_string(), |u, p| u.replace(p, project_id)),
    )
}

#[cfg(test)]
mod tests {
    use super::complete_url;

    #[test]
    fn project_placeholders_are_filled_or_the_endpoint_dropped() {
        assert_eq!(
            complete_url("http://c:8774/v2.1/%(tenant_id)s", Some("p1")).as_deref(),
            Some("http://c:8774/v2.1/p1")
        );
        assert_eq!(
            complete_url("http://c:8774/v2.1/$(project_id)s", None),
            None
        );
        assert_eq!(
            complete_url("http://i:9292", None).as_deref(),
            Some("http://i:9292")
        );
    }
}
