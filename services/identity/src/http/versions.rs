//! Version discovery: `GET /` lists the API versions, `GET /v3` shows v3.

use crate::app::IdentityState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::versions::{self, Version};

#[derive(Serialize, ToSchema)]
pub struct Versions {
    pub versions: VersionValues,
}

#[derive(Serialize, ToSchema)]
pub struct VersionValues {
    pub values: Vec<Version>,
}

#[derive(Serialize, ToSchema)]
pub struct VersionShow {
    pub version: Version,
}

/// Lists the identity API versions. Like Keystone it answers 300 Multiple
/// Choices with a `Location` header naming the preferred version.
#[utoipa::path(
    get,
    path = "/",
    tag = "versions",
    responses((status = 300, description = "The available API versions", body = Versions))
)]
pub async fn list_versions(
    State(state): State<IdentityState>,
    headers: HeaderMap,
) -> impl IntoResponse {
    let v3 = versions::v3(&state.ctx.base_url(&headers));
    let location = v3.links[0].href.clone();
    (
        StatusCode::MULTIPLE_CHOICES,
        [(header::LOCATION, location)],
        Json(Versions {
            versions: VersionValues { values: vec![v3] },
        }),
    )
}

/// Shows the v3 API version.
#[utoipa::path(
    get,
    path = "/v3",
    tag = "versions",
    responses((status = 200, description = "The v3 API version", body = VersionShow))
)]
pub async fn show_v3(State(state): State<IdentityState>, headers: HeaderMap) -> Json<VersionShow> {
    Json(VersionShow {
        version: versions::v3(&state.ctx.base_url(&headers)),
    })
}
