//! Version discovery: `GET /` gives the placement microversion range.

use axum::Json;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::versions::{self, Version};

#[derive(Serialize, ToSchema)]
pub struct Versions {
    pub versions: Vec<Version>,
}

/// Lists the placement API version and its microversion range (the
/// `OpenStack-API-Version` header comes from the negotiation layer).
#[utoipa::path(
    get,
    path = "/",
    tag = "versions",
    responses((status = 200, description = "The placement API version", body = Versions))
)]
pub async fn list_versions() -> impl IntoResponse {
    Json(Versions {
        versions: vec![versions::v1()],
    })
}
