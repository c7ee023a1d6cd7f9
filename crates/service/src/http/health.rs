//! `/healthz`: whether this service can do its work now — its database
//! answers, its bus connection is up and it knows identity's token keys.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::ServiceContext;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when every check passed, otherwise `degraded`.
    pub status: String,
    pub service: String,
    pub version: String,
    /// Each dependency and `ok` or what is wrong with it.
    pub checks: BTreeMap<String, String>,
}

/// Reports the health of the service and its dependencies.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "Every dependency answers", body = Health),
        (status = 503, description = "A dependency is down", body = Health)
    )
)]
pub async fn healthz(State(ctx): State<ServiceContext>) -> (StatusCode, Json<Health>) {
    let mut checks = BTreeMap::new();
    let db = match ctx.db().ping().await {
        Ok(()) => "ok".to_string(),
        Err(e) => {
            tracing::warn!(error = %virga_common::error::chain(&e), "health: database check failed");
            "unreachable".to_string()
        }
    };
    checks.insert("database".to_string(), db);
    let bus = if ctx.bus().is_connected() {
        "ok"
    } else {
        "disconnected"
    };
    checks.insert("bus".to_string(), bus.to_string());
    // Without identity's keys no token verifies: the service cannot work yet.
    let keys = if ctx.auth().is_ready() {
        "ok"
    } else {
        "waiting for identity's keys"
    };
    checks.insert("identity_keys".to_string(), keys.to_string());
    let healthy = checks.values().all(|v| v == "ok");
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: if healthy { "ok" } else { "degraded" }.to_string(),
        service: ctx.name().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        checks,
    };
    (status, Json(health))
}
