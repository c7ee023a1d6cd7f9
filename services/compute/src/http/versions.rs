//! Version discovery: `GET /` lists the API versions, `GET /v2.1` shows v2.1.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use virga_service::ServiceContext;

use crate::app::versions::{self, Version};

#[derive(Serialize, ToSchema)]
pub struct Versions {
    pub versions: Vec<Version>,
}

#[derive(Serialize, ToSchema)]
pub struct VersionShow {
    pub version: Version,
}

/// Lists the compute API versions.
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
        versions: vec![versions::v21(&ctx.base_url(&headers), false)],
    })
}

/// Shows the v2.1 API version and its microversion range.
#[utoipa::path(
    get,
    path = "/v2.1",
    tag = "versions",
    responses((status = 200, description = "The v2.1 API version", body = VersionShow))
)]
pub async fn show_v21(State(ctx): State<ServiceContext>, headers: HeaderMap) -> impl IntoResponse {
    // The microversion headers come from the negotiation layer.
    Json(VersionShow {
        version: versions::v21(&ctx.base_url(&headers), true),
    })
}

/// Shows the v2.1 API version (the same document, trailing slash).
#[utoipa::path(
    get,
    path = "/v2.1/",
    tag = "versions",
    responses((status = 200, description = "The v2.1 API version", body = VersionShow))
)]
pub async fn show_v21_slash(state: State<ServiceContext>, headers: HeaderMap) -> impl IntoResponse {
    show_v21(state, headers).await
}
