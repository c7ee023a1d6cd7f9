//! Virga's telemetry service: a metrics, alarms and events API (port 8041).
//!
//! Layout, as in every service: `http/` thin handlers, `app/` logic, `db/`
//! entities and queries, `migrations/` the schema.

pub mod app;
pub mod db;
pub mod http;
pub mod migrations;

use virga_common::{ErrorReport, RequestId};
use virga_service::{Service, ServiceContext, StartError};

pub struct Telemetry;

impl Service for Telemetry {
    const NAME: &'static str = "telemetry";
    const TITLE: &'static str = "Virga Telemetry API (v1)";
    type State = ServiceContext;
    type Migrator = migrations::Migrator;

    fn api() -> utoipa_axum::router::OpenApiRouter<ServiceContext> {
        http::api()
    }

    fn render_error(report: &ErrorReport, request_id: &RequestId) -> serde_json::Value {
        http::error::render(report, request_id)
    }

    async fn state(ctx: ServiceContext) -> Result<ServiceContext, StartError> {
        Ok(ctx)
    }
}
