//! The network API versions and resources this service offers, as Neutron
//! describes them.

use serde::Serialize;
use utoipa::ToSchema;
use virga_common::links::Link;

/// One API version (Neutron's version object).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    pub id: String,
    pub status: String,
    pub links: Vec<Link>,
}

/// A resource collection listed by `GET /v2.0/`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resource {
    pub name: String,
    pub collection: String,
    pub links: Vec<Link>,
}

pub fn v2(base_url: &str) -> Version {
    Version {
        id: "v2.0".into(),
        status: "CURRENT".into(),
        links: vec![Link::self_link(format!("{base_url}/v2.0/"))],
    }
}

/// The collections this service implements, by (name, collection): only
/// those, since a client must not be told of a collection that answers 404.
const RESOURCES: &[(&str, &str)] = &[
    ("network", "networks"),
    ("subnet", "subnets"),
    ("port", "ports"),
    ("security_group", "security-groups"),
    ("security_group_rule", "security-group-rules"),
    ("router", "routers"),
    ("floatingip", "floatingips"),
];

pub fn resources(base_url: &str) -> Vec<Resource> {
    RESOURCES
        .iter()
        .map(|(name, collection)| Resource {
            name: (*name).into(),
            collection: (*collection).into(),
            links: vec![Link::self_link(format!("{base_url}/v2.0/{collection}"))],
        })
        .collect()
}
