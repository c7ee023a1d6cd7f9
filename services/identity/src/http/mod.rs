//! Identity's HTTP layer: thin handlers, one module per resource.

pub mod error;
pub mod versions;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use virga_service::ServiceContext;

pub fn api() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new()
        .routes(routes!(versions::list_versions))
        .routes(routes!(versions::show_v3))
}
