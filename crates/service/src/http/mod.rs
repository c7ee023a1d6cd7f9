//! The HTTP stack shared by every service: the middleware around each
//! request and the endpoints every service answers (`/healthz`, `/metrics`).

pub mod errors;
pub mod health;
pub mod metrics;
pub mod request_id;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;
use virga_common::ErrorReport;

use crate::{Service, ServiceContext, openapi};

/// The endpoints every service has, documented like its own.
pub fn common_api() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(metrics::metrics))
}

/// Bodies larger than this are refused before a handler sees them; services
/// that take uploads raise it on their own routes.
const BODY_LIMIT: usize = 1024 * 1024;

/// Assembles the full application of service `S`.
pub fn app<S: Service>(state: S::State, ctx: ServiceContext) -> Router {
    let (service_routes, _) = S::api().split_for_parts();
    let (common_routes, _) = common_api().split_for_parts();
    Router::new()
        .merge(service_routes.with_state(state))
        .merge(common_routes.with_state(ctx.clone()))
        .merge(SwaggerUi::new("/docs").url("/docs/openapi.json", openapi::<S>()))
        .fallback(not_found)
        // Layers run outside-in from the last: request id first, then metrics,
        // then error rendering, so every error body carries the request id and
        // is counted; panics become 500s before they are rendered.
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            ctx.clone(),
            errors::render::<S>,
        ))
        .layer(axum::middleware::from_fn_with_state(ctx, metrics::track))
        .layer(axum::middleware::from_fn(request_id::assign::<S>))
}

async fn not_found() -> ErrorReport {
    ErrorReport::new(
        axum::http::StatusCode::NOT_FOUND,
        "The resource could not be found.",
    )
}
