//! Compute's HTTP layer: thin handlers, one module per resource; the
//! versioned API behind Nova's microversion negotiation.

pub mod error;
pub mod flavor;
pub mod flavor_access;
pub mod flavor_extra_spec;
pub mod microversion;
pub mod versions;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use virga_service::ServiceContext;

pub fn api() -> OpenApiRouter<ServiceContext> {
    let versioned = OpenApiRouter::new()
        .routes(routes!(versions::show_v21))
        .routes(routes!(versions::show_v21_slash))
        .routes(routes!(flavor::list_flavors, flavor::create_flavor))
        .routes(routes!(flavor::list_flavors_detail))
        .routes(routes!(flavor::show_flavor, flavor::delete_flavor))
        .routes(routes!(flavor::flavor_action))
        .routes(routes!(flavor_access::list_flavor_access))
        .routes(routes!(
            flavor_extra_spec::list_extra_specs,
            flavor_extra_spec::create_extra_specs
        ))
        .routes(routes!(
            flavor_extra_spec::show_extra_spec,
            flavor_extra_spec::update_extra_spec,
            flavor_extra_spec::delete_extra_spec
        ))
        .layer(axum::middleware::from_fn(microversion::negotiate));
    OpenApiRouter::new()
        .routes(routes!(versions::list_versions))
        .merge(versioned)
}
