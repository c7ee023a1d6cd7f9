//! Version discovery: `GET /` (300 Multiple Choices, as Glance answers an
//! unversioned request) and `GET /versions` (200, the explicit request).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;
use virga_service::ServiceContext;

use crate::app::versions::{self, Version};

#[derive(Serialize, ToSchema)]
pub struct Versions {
    pub versions: Vec<Version>,
}

/// Lists the image API versions for a request that named none.
#[utoipa::path(
    get,
    path = "/",
    tag = "versions",
    responses((status = 300, description = "The available API versions", body = Versions))
)]
pub async fn list_versions(
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
) -> (StatusCode, Json<Versions>) {
    (
        StatusCode::MULTIPLE_CHOICES,
        Json(Versions {
            versions: versions::all(&ctx.base_url(&headers)),
        }),
    )
}

/// Lists the image API versions.
#[utoipa::path(
    get,
    path = "/versions",
    tag = "versions",
    responses((status = 200, description = "The available API versions", body = Versions))
)]
pub async fn versions(State(ctx): State<ServiceContext>, headers: HeaderMap) -> Json<Versions> {
    Json(Versions {
        versions: versions::all(&ctx.base_url(&headers)),
    })
}
