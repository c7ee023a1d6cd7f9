//! Version discovery: `GET /` lists the API versions, `GET /v1` links the
//! v1 resources.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;
use virga_common::links::Link;
use virga_service::ServiceContext;

use crate::app::versions::{self, Version};

#[derive(Serialize, ToSchema)]
pub struct Versions {
    /// The running build's version.
    pub build: String,
    pub versions: Vec<Version>,
}

#[derive(Serialize, ToSchema)]
pub struct V1 {
    pub version: String,
    pub links: Vec<Link>,
}

/// Lists the telemetry API versions.
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
        build: env!("CARGO_PKG_VERSION").into(),
        versions: vec![versions::v1(&ctx.base_url(&headers))],
    })
}

/// Shows the v1 API and links its resources.
#[utoipa::path(
    get,
    path = "/v1",
    tag = "versions",
    responses((status = 200, description = "The v1 API and its resources", body = V1))
)]
pub async fn show_v1(State(ctx): State<ServiceContext>, headers: HeaderMap) -> Json<V1> {
    Json(V1 {
        version: "1.0".into(),
        links: versions::v1_links(&ctx.base_url(&headers)),
    })
}
