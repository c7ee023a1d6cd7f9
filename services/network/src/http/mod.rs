//! Network's HTTP layer: thin handlers, one module per resource.

pub mod body;
pub mod error;
pub mod extension;
pub mod floating_ip;
pub mod network;
pub mod port;
pub mod query;
pub mod quota;
pub mod router;
pub mod security_group;
pub mod security_group_rule;
pub mod subnet;
pub mod versions;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use virga_service::ServiceContext;

/// Neutron's timestamps: seconds and a `Z`.
pub fn neutron_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn api() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new()
        .routes(routes!(versions::list_versions))
        .routes(routes!(versions::list_resources))
        .routes(routes!(extension::list_extensions))
        .routes(routes!(extension::show_extension))
        .routes(routes!(network::list_networks, network::create_network))
        .routes(routes!(
            network::show_network,
            network::update_network,
            network::delete_network
        ))
        .routes(routes!(subnet::list_subnets, subnet::create_subnet))
        .routes(routes!(
            subnet::show_subnet,
            subnet::update_subnet,
            subnet::delete_subnet
        ))
        .routes(routes!(port::list_ports, port::create_port))
        .routes(routes!(
            port::show_port,
            port::update_port,
            port::delete_port
        ))
        .routes(routes!(
            security_group::list_security_groups,
            security_group::create_security_group
        ))
        .routes(routes!(
            security_group::show_security_group,
            security_group::update_security_group,
            security_group::delete_security_group
        ))
        .routes(routes!(
            security_group_rule::list_security_group_rules,
            security_group_rule::create_security_group_rule
        ))
        .routes(routes!(
            security_group_rule::show_security_group_rule,
            security_group_rule::delete_security_group_rule
        ))
        .routes(routes!(quota::list_quotas))
        .routes(routes!(
            quota::show_quota,
            quota::update_quota,
            quota::delete_quota
        ))
        .routes(routes!(quota::show_default_quota))
        .routes(routes!(quota::show_quota_details))
        .routes(routes!(router::list_routers, router::create_router))
        .routes(routes!(
            router::show_router,
            router::update_router,
            router::delete_router
        ))
        .routes(routes!(router::add_router_interface))
        .routes(routes!(router::remove_router_interface))
        .routes(routes!(
            floating_ip::list_floating_ips,
            floating_ip::create_floating_ip
        ))
        .routes(routes!(
            floating_ip::show_floating_ip,
            floating_ip::update_floating_ip,
            floating_ip::delete_floating_ip
        ))
}
