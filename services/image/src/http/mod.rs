//! Image's HTTP layer: thin handlers, one module per resource.

pub mod error;
pub mod image;
pub mod versions;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use virga_service::ServiceContext;

pub fn api() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new()
        .routes(routes!(versions::list_versions))
        .routes(routes!(versions::versions))
        .routes(routes!(image::list_images, image::create_image))
        .routes(routes!(image::show_image, image::delete_image))
}
