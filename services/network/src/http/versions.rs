//! Version discovery: `GET /` lists the API versions, `GET /v2.0/` lists the
//! resource collections of v2.0 (Neutron answers 404 without the slash).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;
use virga_service::ServiceContext;

use crate::app::versions::{self, Resource, Version};

#[derive(Serialize, ToSchema)]
pub struct Versions {
    pub versions: Vec<Version>,
}

#[derive(Serialize, ToSchema)]
pub struct Resources {
    pub resources: Vec<Resource>,
}

/// Lists the network API versions.
#[utoipa::path(
    get,
    path = "/",
    tag = "versions",
    responses((status = 200, description = "The available API versions", body = Versions))
)]
pub async fn list_versions(
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
) -> Json<Versions> {
    Json(Versions {
        versions: vec![versions::v2(&ctx.base_url(&headers))],
    })
}

/// Lists the resource collections of the v2.0 API.
#[utoipa::path(
    get,
    path = "/v2.0/",
    tag = "versions",
    responses((status = 200, description = "The v2.0 resource collections", body = Resources))
)]
pub async fn list_resources(
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
) -> Json<Resources> {
    Json(Resources {
        resources: versions::resources(&ctx.base_url(&headers)),
    })
}
