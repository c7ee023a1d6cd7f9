//! Virga's scheduler service: a Placement-compatible API (port 8778).
//!
//! Layout, as in every service: `http/` thin handlers, `app/` logic, `db/`
//! entities and queries, `migrations/` the schema.

pub mod app;
pub mod bus;
pub mod db;
pub mod http;
pub mod migrations;

use virga_common::{ErrorReport, RequestId};
use virga_service::{Service, ServiceContext, StartError};

pub struct Scheduler;

impl Service for Scheduler {
    const NAME: &'static str = "scheduler";
    const TITLE: &'static str = "Virga Scheduler API (Placement compatible)";
    type State = ServiceContext;
    type Migrator = migrations::Migrator;
    const POLICY: &'static str = include_str!("../policy.yaml");

    fn api() -> utoipa_axum::router::OpenApiRouter<ServiceContext> {
        http::api()
    }

    fn render_error(report: &ErrorReport, request_id: &RequestId) -> serde_json::Value {
        http::error::render(report, request_id)
    }

    async fn state(ctx: ServiceContext) -> Result<ServiceContext, StartError> {
        // Claims `select` made that their caller never confirmed.
        app::select::claim::spawn_reaper(ctx.clone());
        app::node_watch::spawn(ctx.clone());
        bus::serve(&ctx).await.map_err(|source| StartError::Bus {
            service: Self::NAME,
            source,
        })?;
        Ok(ctx)
    }
}
