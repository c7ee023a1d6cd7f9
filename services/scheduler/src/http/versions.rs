//! Version discovery: `GET /` gives the placement microversion range.

use axum::Json;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::versions::{self, MIN_MICROVERSION, Version};

#[derive(Serialize, ToSchema)]
pub struct Versions {
    pub versions: Vec<Version>,
}

/// Lists the placement API version and its microversion range.
#[utoipa::path(
    get,
    path = "/",
    tag = "versions",
    responses((status = 200, description = "The placement API version", body = Versions))
)]
pub async fn list_versions() -> impl IntoResponse {
    (
        [
            (
                "openstack-api-version",
                format!("placement {MIN_MICROVERSION}"),
            ),
            ("vary", "openstack-api-version".to_string()),
        ],
        Json(Versions {
            versions: vec![versions::v1()],
        }),
    )
}
