//! Virga's image service: a Glance v2-compatible API (port 9292).
//!
//! Layout, as in every service: `http/` thin handlers, `app/` logic, `db/`
//! entities and queries, `migrations/` the schema.

pub mod app;
pub mod db;
pub mod format;
pub mod http;
pub mod migrations;
pub mod oci;
pub mod signature;
pub mod store;

use virga_common::{ErrorReport, RequestId};
use virga_service::{Service, ServiceContext, StartError};

pub struct Image;

impl Service for Image {
    const NAME: &'static str = "image";
    const TITLE: &'static str = "Virga Image API (Glance v2 compatible)";
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
        // Imports a previous run left unfinished go on.
        app::import_task::spawn_resumer(ctx.clone());
        app::oci_blobs::spawn_collector(ctx.clone());
        Ok(ctx)
    }
}
