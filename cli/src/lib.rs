//! The `virga` binary's library side: which services exist, starting them,
//! and their OpenAPI documents (used by `cargo xtask openapi` and the drift test).

pub mod bootstrap;
pub mod openapi;
pub mod run;
pub mod seed;

use virga_service::Service;

/// Runs `$body` with `$S` bound to each service type, in start order.
#[macro_export]
macro_rules! for_each_service {
    ($S:ident => $body:expr) => {{
        {
            type $S = virga_identity::Identity;
            $body
        }
        {
            type $S = virga_image::Image;
            $body
        }
        {
            type $S = virga_network::Network;
            $body
        }
        {
            type $S = virga_scheduler::Scheduler;
            $body
        }
        {
            type $S = virga_compute::Compute;
            $body
        }
        {
            type $S = virga_telemetry::Telemetry;
            $body
        }
    }};
}

/// Every service's name and OpenAPI document.
pub fn openapi_documents() -> Vec<(&'static str, utoipa::openapi::OpenApi)> {
    let mut docs = Vec::new();
    for_each_service!(S => docs.push((S::NAME, virga_service::openapi::<S>())));
    docs
}

/// Whether `name` is a service this binary can run.
pub fn is_service(name: &str) -> bool {
    let mut found = false;
    for_each_service!(S => found |= S::NAME == name);
    found
}
