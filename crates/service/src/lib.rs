//! The runtime every Virga service runs in.
//!
//! A service crate implements [`Service`]: its name, its endpoints as a
//! utoipa-axum router, its migrations, its error body shape and its state.
//! This crate does the rest the same way for all six: database and
//! migrations, the HTTP stack (request ids, metrics, error rendering, panics
//! as 500s), `/healthz`, `/metrics`, Swagger UI at `/docs`, the bus liveness
//! consumer, start/stop announcements and graceful shutdown.

pub mod auth;
mod bus;
mod context;
pub mod http;
pub mod identity;
mod openapi;
pub mod peer;
mod run;

use std::future::Future;

use sea_orm_migration::MigratorTrait;
use utoipa_axum::router::OpenApiRouter;
use virga_common::{ErrorReport, RequestId};
use virga_db::sea_orm_migration;

pub use context::{HasContext, ServiceContext};
pub use openapi::openapi;
pub use run::{Running, StartError, start};

/// One Virga service, as the runtime needs to know it.
pub trait Service: Send + Sync + 'static {
    /// The service's name: `identity`, `compute`, ...; also its config section,
    /// database name and bus topic.
    const NAME: &'static str;
    /// The title of its OpenAPI document.
    const TITLE: &'static str;
    /// What its handlers share; it gives access to the runtime's context,
    /// which is how [`auth::Auth`] finds the authenticator.
    type State: Clone + Send + Sync + 'static + HasContext;
    /// Its schema migrations, run at every start.
    type Migrator: MigratorTrait;
    /// A second header carrying the request id, for clients of the service
    /// OpenStack equivalent that read it there (Nova's `x-compute-request-id`).
    const REQUEST_ID_COMPAT_HEADER: Option<&'static str> = None;
    /// The default policy: a YAML map of rule name to oslo.policy rule,
    /// usually `include_str!("../policy.yaml")`. Operators override rules
    /// with `services.<name>.policy_file`.
    const POLICY: &'static str = "{}";

    /// Every endpoint of the service, each declared once with `#[utoipa::path]`.
    fn api() -> OpenApiRouter<Self::State>;

    /// The JSON error body in this service's OpenStack shape. The one place
    /// where the service's errors become HTTP bodies.
    fn render_error(report: &ErrorReport, request_id: &RequestId) -> serde_json::Value;

    /// Builds the handlers' state once the database and bus are ready.
    /// Services whose state is the context alone return `ready(Ok(ctx))`.
    fn state(ctx: ServiceContext) -> impl Future<Output = Result<Self::State, StartError>> + Send;
}
