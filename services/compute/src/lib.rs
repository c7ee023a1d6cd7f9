//! Virga's compute service: a Nova v2.1-compatible API (port 8774).
//!
//! Layout, as in every service: `http/` thin handlers, `app/` logic, `db/`
//! entities and queries, `migrations/` the schema.

pub mod app;
pub mod db;
pub mod http;
pub mod migrations;

use virga_common::{ErrorReport, RequestId};
use virga_service::{Service, ServiceContext, StartError};

pub struct Compute;

impl Service for Compute {
    const NAME: &'static str = "compute";
    const TITLE: &'static str = "Virga Compute API (Nova v2.1 compatible)";
    type State = ServiceContext;
    type Migrator = migrations::Migrator;
    const REQUEST_ID_COMPAT_HEADER: Option<&'static str> = Some("x-compute-request-id");
    const POLICY: &'static str = include_str!("../policy.yaml");

    fn api() -> utoipa_axum::router::OpenApiRouter<ServiceContext> {
        http::api()
    }

    fn render_error(report: &ErrorReport, request_id: &RequestId) -> serde_json::Value {
        http::error::render(report, request_id)
    }

    /// Starts the consumer of agents' reports and the saga sweeper, which
    /// first resumes what a previous run left in progress.
    async fn state(ctx: ServiceContext) -> Result<ServiceContext, StartError> {
        app::saga::events::serve(&ctx)
            .await
            .map_err(|source| StartError::Bus {
                service: Self::NAME,
                source,
            })?;
        app::saga::start(&ctx);
        Ok(ctx)
    }
}
