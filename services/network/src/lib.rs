//! Virga's network service: a Neutron v2.0-compatible API (port 9696).
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

pub struct Network;

impl Service for Network {
    const NAME: &'static str = "network";
    const TITLE: &'static str = "Virga Network API (Neutron v2.0 compatible)";
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
        // Nodes' network plans: reports in, plans out.
        bus::serve(&ctx).await.map_err(|source| StartError::Bus {
            service: Self::NAME,
            source,
        })?;
        app::node_plan::spawn(ctx.clone());
        Ok(ctx)
    }
}
