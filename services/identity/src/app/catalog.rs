//! The service catalog as tokens carry it: every enabled service with its
//! enabled endpoints, one per interface and region. A region per central
//! cloud and per edge site means a client reads from the catalog which
//! services each site offers and where.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::Error;
use virga_db::sea_orm::ConnectionTrait;

use crate::db::catalog::{self, EndpointFilter};

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
