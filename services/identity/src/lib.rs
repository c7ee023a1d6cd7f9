//! Virga's identity service: a Keystone v3-compatible API (port 5000).
//!
//! Layout, as in every service: `http/` thin handlers, `app/` logic, `db/`
//! entities and queries, `migrations/` the schema.

pub mod app;
pub mod db;
pub mod http;
pub mod migrations;

use virga_common::{ErrorReport, RequestId};
use virga_service::{Service, ServiceContext};

pub struct Identity;

impl Service for Identity {
    const NAME: &'static str = "identity";
    const TITLE: &'static str = "Virga Identity API (Keystone v3 compatible)";
    type State = ServiceContext;
    type Migrator = migrations::Migrator;

    fn api() -> utoipa_axum::router::OpenApiRouter<ServiceContext> {
        http::api()
    }

    fn render_error(report: &ErrorReport, request_id: &RequestId) -> serde_json::Value {
        http::error::render(report, request_id)
    }
}
