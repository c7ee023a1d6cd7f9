//! Scheduler's HTTP layer: thin handlers, one module per resource, behind
//! Placement's microversion negotiation.

pub mod aggregate;
pub mod allocation;
pub mod allocation_candidate;
pub mod body;
pub mod error;
pub mod inventory;
pub mod microversion;
pub mod node;
pub mod query;
pub mod reshaper;
pub mod resource_class;
pub mod resource_provider;
pub mod select;
pub mod site;
pub mod traits;
pub mod versions;

use axum::http::{HeaderValue, header};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use virga_service::ServiceContext;

/// `resp` with a `Location` header (a created or ensured resource's URL).
pub fn located(mut resp: Response, location: &str) -> Result<Response, virga_common::Error> {
    let v = HeaderValue::from_str(location).map_err(virga_common::Error::internal)?;
    resp.headers_mut().insert(header::LOCATION, v);
    Ok(resp)
}

pub fn api() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new()
        .routes(routes!(versions::list_versions))
        .routes(routes!(
            resource_provider::list_resource_providers,
            resource_provider::create_resource_provider
        ))
        .routes(routes!(
            resource_provider::show_resource_provider,
            resource_provider::update_resource_provider,
            resource_provider::delete_resource_provider
        ))
        .routes(routes!(
            inventory::list_inventories,
            inventory::set_inventories,
            inventory::create_inventory,
            inventory::delete_inventories
        ))
        .routes(routes!(
            allocation::set_allocations,
            allocation::show_allocations,
            allocation::delete_allocations
        ))
        .routes(routes!(allocation::post_allocations))
        .routes(routes!(reshaper::reshape))
        .routes(routes!(allocation::project_usages))
        .routes(routes!(allocation::list_provider_allocations))
        .routes(routes!(allocation::list_usages))
        .routes(routes!(
            inventory::show_inventory,
            inventory::update_inventory,
            inventory::delete_inventory
        ))
        .routes(routes!(
            aggregate::list_aggregates,
            aggregate::set_aggregates
        ))
        .routes(routes!(
            resource_class::list_resource_classes,
            resource_class::create_resource_class
        ))
        .routes(routes!(
            resource_class::show_resource_class,
            resource_class::ensure_resource_class,
            resource_class::delete_resource_class
        ))
        .routes(routes!(allocation_candidate::list_allocation_candidates))
        .routes(routes!(node::list_nodes))
        .routes(routes!(
            node::show_node,
            node::register_node,
            node::delete_node
        ))
        .routes(routes!(node::heartbeat))
        .routes(routes!(node::set_disabled))
        .routes(routes!(node::set_forced_down))
        .routes(routes!(select::select))
        .routes(routes!(select::confirm))
        .routes(routes!(select::release))
        .routes(routes!(select::transfer))
        .routes(routes!(site::list_sites, site::create_site))
        .routes(routes!(
            site::show_site,
            site::update_site,
            site::delete_site
        ))
        .routes(routes!(site::set_network_quality))
        .routes(routes!(traits::list_traits))
        .routes(routes!(
            traits::show_trait,
            traits::create_trait,
            traits::delete_trait
        ))
        .routes(routes!(
            traits::list_provider_traits,
            traits::set_provider_traits,
            traits::delete_provider_traits
        ))
        .layer(axum::middleware::from_fn(microversion::negotiate))
}
