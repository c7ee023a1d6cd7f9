//! Compute's HTTP layer: thin handlers, one module per resource; the
//! versioned API behind Nova's microversion negotiation.

pub mod availability_zone;
pub mod error;
pub mod flavor;
pub mod flavor_access;
pub mod flavor_extra_spec;
pub mod hypervisor;
pub mod instance_action;
pub mod key_pair;
pub mod limits;
pub mod microversion;
pub mod migration;
pub mod quota_set;
pub mod remote_console;
pub mod server;
pub mod server_action;
pub mod server_group;
pub mod server_migration;
pub mod service;
pub mod versions;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use virga_service::ServiceContext;

/// A time as Nova writes it (`2026-12-07T12:00:00.000000`, UTC, no zone).
pub fn nova_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Nova's `<collection>_links` after a full page: the same query with the
/// page's last id as the marker.
pub fn next_link(base: &str, path: &str, pairs: &[(String, String)], last: &str) -> Value {
    let mut p: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "marker")
        .cloned()
        .collect();
    p.push(("marker".into(), last.to_owned()));
    let href = format!(
        "{base}{path}?{}",
        virga_common::pagination::query_string(&p)
    );
    json!([{"rel": "next", "href": href}])
}

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
        .routes(routes!(key_pair::list_keypairs, key_pair::create_keypair))
        .routes(routes!(key_pair::show_keypair, key_pair::delete_keypair))
        .routes(routes!(
            quota_set::show_quota_set,
            quota_set::update_quota_set,
            quota_set::delete_quota_set
        ))
        .routes(routes!(quota_set::show_quota_defaults))
        .routes(routes!(quota_set::show_quota_detail))
        .routes(routes!(limits::show_limits))
        .routes(routes!(server::list_servers, server::create_server))
        .routes(routes!(server::list_servers_detail))
        .routes(routes!(
            server::show_server,
            server::update_server,
            server::delete_server
        ))
        .routes(routes!(server_action::server_action))
        .routes(routes!(instance_action::list_instance_actions))
        .routes(routes!(instance_action::show_instance_action))
        .routes(routes!(
            server_group::list_server_groups,
            server_group::create_server_group
        ))
        .routes(routes!(
            server_group::show_server_group,
            server_group::delete_server_group
        ))
        .routes(routes!(hypervisor::list_hypervisors))
        .routes(routes!(hypervisor::list_hypervisors_detail))
        .routes(routes!(hypervisor::show_hypervisor))
        .routes(routes!(service::list_services))
        .routes(routes!(service::disable_service))
        .routes(routes!(service::enable_service))
        .routes(routes!(service::force_down_service))
        .routes(routes!(remote_console::create_remote_console))
        .routes(routes!(server_migration::list_server_migrations))
        .routes(routes!(
            server_migration::show_server_migration,
            server_migration::delete_server_migration
        ))
        .routes(routes!(server_migration::server_migration_action))
        .routes(routes!(availability_zone::list_availability_zones))
        .routes(routes!(migration::list_migrations))
        .routes(routes!(availability_zone::list_availability_zones_detail))
        .layer(axum::middleware::from_fn(microversion::negotiate));
    OpenApiRouter::new()
        .routes(routes!(versions::list_versions))
        .routes(routes!(server::list_site_servers))
        .merge(versioned)
}
