//! Virga's identity service: a Keystone v3-compatible API (port 5000).
//!
//! Layout, as in every service: `http/` thin handlers, `app/` logic, `db/`
//! entities and queries, `migrations/` the schema.

pub mod app;
pub mod db;
pub mod http;
pub mod migrations;

use app::IdentityState;
use virga_common::{ErrorReport, RequestId};
use virga_service::{Service, ServiceContext, StartError};

pub struct Identity;

impl Service for Identity {
    const NAME: &'static str = "identity";
    const TITLE: &'static str = "Virga Identity API (Keystone v3 compatible)";
    type State = IdentityState;
    type Migrator = migrations::Migrator;
    const POLICY: &'static str = include_str!("../policy.yaml");

    fn api() -> utoipa_axum::router::OpenApiRouter<IdentityState> {
        http::api()
    }

    fn render_error(report: &ErrorReport, request_id: &RequestId) -> serde_json::Value {
        http::error::render(report, request_id)
    }

    async fn state(ctx: ServiceContext) -> Result<IdentityState, StartError> {
        IdentityState::start(ctx).await
    }
}
