//! Identity's HTTP layer: thin handlers, one module per resource, and the
//! pieces of Keystone's response shape they share (links, collections).

pub mod application_credential;
pub mod assignment;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod domain;
pub mod error;
pub mod federation;
pub mod grant;
pub mod group;
pub mod project;
pub mod region;
pub mod role;
pub mod user;
pub mod versions;

use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use virga_common::Error;
use virga_common::pagination::{Page, PageQuery, PageRequest};

use crate::app::IdentityState;

pub fn api() -> OpenApiRouter<IdentityState> {
    OpenApiRouter::new()
        .routes(routes!(versions::list_versions))
        .routes(routes!(versions::show_v3))
        .routes(routes!(
            auth::create_token,
            auth::validate_token,
            auth::check_token,
            auth::revoke_token
        ))
        .routes(routes!(auth::auth_catalog))
        .routes(routes!(auth::jwks))
        .routes(routes!(project::auth_projects))
        .routes(routes!(domain::auth_domains))
        .routes(routes!(domain::auth_system))
        .routes(routes!(domain::list_domains, domain::create_domain))
        .routes(routes!(
            domain::show_domain,
            domain::update_domain,
            domain::delete_domain
        ))
        .routes(routes!(project::list_projects, project::create_project))
        .routes(routes!(
            project::show_project,
            project::update_project,
            project::delete_project
        ))
        .routes(routes!(project::list_user_projects))
        .routes(routes!(user::list_users, user::create_user))
        .routes(routes!(
            user::show_user,
            user::update_user,
            user::delete_user
        ))
        .routes(routes!(user::change_password))
        .routes(routes!(user::list_user_groups))
        .routes(routes!(group::list_groups, group::create_group))
        .routes(routes!(
            group::show_group,
            group::update_group,
            group::delete_group
        ))
        .routes(routes!(group::list_group_users))
        .routes(routes!(
            group::add_group_user,
            group::check_group_user,
            group::show_group_user,
            group::remove_group_user
        ))
        .routes(routes!(role::list_roles, role::create_role))
        .routes(routes!(
            role::show_role,
            role::update_role,
            role::delete_role
        ))
        .routes(routes!(
            grant::grant_project_user,
            grant::check_project_user,
            grant::revoke_project_user
        ))
        .routes(routes!(grant::list_project_user_roles))
        .routes(routes!(
            grant::grant_project_group,
            grant::check_project_group,
            grant::revoke_project_group
        ))
        .routes(routes!(grant::list_project_group_roles))
        .routes(routes!(
            grant::grant_domain_user,
            grant::check_domain_user,
            grant::revoke_domain_user
        ))
        .routes(routes!(grant::list_domain_user_roles))
        .routes(routes!(
            grant::grant_domain_group,
            grant::check_domain_group,
            grant::revoke_domain_group
        ))
        .routes(routes!(grant::list_domain_group_roles))
        .routes(routes!(
            grant::grant_system_user,
            grant::check_system_user,
            grant::revoke_system_user
        ))
        .routes(routes!(grant::list_system_user_roles))
        .routes(routes!(
            grant::grant_system_group,
            grant::check_system_group,
            grant::revoke_system_group
        ))
        .routes(routes!(grant::list_system_group_roles))
        .routes(routes!(
            grant::grant_inherited_domain_user,
            grant::check_inherited_domain_user,
            grant::revoke_inherited_domain_user
        ))
        .routes(routes!(grant::list_inherited_domain_user_roles))
        .routes(routes!(
            grant::grant_inherited_domain_group,
            grant::check_inherited_domain_group,
            grant::revoke_inherited_domain_group
        ))
        .routes(routes!(grant::list_inherited_domain_group_roles))
        .routes(routes!(
            grant::grant_inherited_project_user,
            grant::check_inherited_project_user,
            grant::revoke_inherited_project_user
        ))
        .routes(routes!(
            grant::grant_inherited_project_group,
            grant::check_inherited_project_group,
            grant::revoke_inherited_project_group
        ))
        .routes(routes!(assignment::list_role_assignments))
        .routes(routes!(region::list_regions, region::create_region))
        .routes(routes!(
            region::show_region,
            region::put_region,
            region::update_region,
            region::delete_region
        ))
        .routes(routes!(catalog::list_services, catalog::create_service))
        .routes(routes!(
            catalog::show_service,
            catalog::update_service,
            catalog::delete_service
        ))
        .routes(routes!(catalog::list_endpoints, catalog::create_endpoint))
        .routes(routes!(
            catalog::show_endpoint,
            catalog::update_endpoint,
            catalog::delete_endpoint
        ))
        .routes(routes!(
            application_credential::list_application_credentials,
            application_credential::create_application_credential
        ))
        .routes(routes!(
            application_credential::show_application_credential,
            application_credential::delete_application_credential
        ))
        .routes(routes!(audit::list_audit_events))
        .routes(routes!(
            federation::identity_provider::list_identity_providers
        ))
        .routes(routes!(
            federation::identity_provider::create_identity_provider,
            federation::identity_provider::show_identity_provider,
            federation::identity_provider::update_identity_provider,
            federation::identity_provider::delete_identity_provider
        ))
        .routes(routes!(federation::mapping::list_mappings))
        .routes(routes!(
            federation::mapping::create_mapping,
            federation::mapping::show_mapping,
            federation::mapping::update_mapping,
            federation::mapping::delete_mapping
        ))
        .routes(routes!(
            federation::auth::federated_auth,
            federation::auth::federated_auth_get
        ))
        .routes(routes!(federation::auth::websso))
        .routes(routes!(federation::auth::websso_callback))
        .routes(routes!(federation::protocol::list_protocols))
        .routes(routes!(
            federation::protocol::create_protocol,
            federation::protocol::show_protocol,
            federation::protocol::update_protocol,
            federation::protocol::delete_protocol
        ))
}

/// The largest page a list answers; Keystone's `list_limit` is unset by
/// default, but an unbounded list is a denial of service waiting to happen.
pub const MAX_PAGE: u64 = 1000;

/// `http://host:5000/v3`, for links.
pub fn v3_base(state: &IdentityState, headers: &HeaderMap) -> String {
    format!("{}/v3", state.ctx.base_url(headers))
}

/// An entity's `links`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SelfLink {
    #[serde(rename = "self")]
    pub self_: String,
}

impl SelfLink {
    pub fn to(base: &str, path: &str) -> Self {
        SelfLink {
            self_: format!("{base}/{path}"),
        }
    }
}

/// A collection's `links`: Keystone always shows `previous` and `next`,
/// null when there is none.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollectionLinks {
    #[serde(rename = "self")]
    pub self_: String,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl CollectionLinks {
    /// Links of an unpaginated collection at `path` (below the host).
    pub fn plain(state: &IdentityState, headers: &HeaderMap, path: &str) -> Self {
        CollectionLinks {
            self_: format!("{}{path}", state.ctx.base_url(headers)),
            previous: None,
            next: None,
        }
    }

    /// Links of one page, the caller's other query parameters kept in `next`.
    pub fn page<T>(
        state: &IdentityState,
        headers: &HeaderMap,
        path: &str,
        params: &[(String, String)],
        page: &Page<T>,
        req: &PageRequest,
    ) -> Self {
        let self_ = format!("{}{path}", state.ctx.base_url(headers));
        CollectionLinks {
            next: page.next_href(&self_, params, req),
            self_,
            previous: None,
        }
    }
}

pub fn page_request(q: &PageQuery) -> Result<PageRequest, Error> {
    q.validate(MAX_PAGE)
}

/// Keystone's boolean query values: `true`/`false` and `1`/`0`, any case.
pub fn parse_bool(field: &str, raw: &Option<String>) -> Result<Option<bool>, Error> {
    match raw.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("true" | "1" | "yes" | "on" | "") => Ok(Some(true)),
        Some("false" | "0" | "no" | "off") => Ok(Some(false)),
        Some(other) => Err(Error::BadRequest(format!(
            "Invalid input for field '{field}': {other} is not a boolean."
        ))),
    }
}

/// For PATCH bodies: tells a field sent as `null` (`Some(None)`, clear it)
/// from a field not sent (`None`, keep it).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}

/// The query parameters that were given, to carry into `next` links.
pub fn query_params(given: &[(&str, &Option<String>)]) -> Vec<(String, String)> {
    given
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v.clone())))
        .collect()
}

/// Keystone's names: 1 to 255 characters, not only whitespace.
pub fn check_name(field: &str, name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.chars().count() > 255 {
        return Err(Error::BadRequest(format!(
            "Invalid input for field '{field}': a name must have 1 to 255 characters, not all blank."
        )));
    }
    Ok(())
}
