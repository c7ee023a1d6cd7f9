//! Availability zones (`os-availability-zone`): the edge sites that have
//! nodes, available while one of them is up and enabled; admins also see
//! each zone's hosts.

use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::service::{self, Service};

/// One zone and its nodes.
pub struct Zone {
    pub name: String,
    pub available: bool,
    pub hosts: Vec<Service>,
}

/// Whether a node takes servers now.
pub fn usable(s: &Service) -> bool {
    s.node["state"] == "up" && s.node["disabled"] != true
}

pub async fn list(ctx: &ServiceContext, auth: &Auth, detail: bool) -> Result<Vec<Zone>, Error> {
    let rule = if detail { "detail" } else { "list" };
    auth.enforce(
        &format!("os_compute_api:os-availability-zone:{rule}"),
        &Target::new(),
    )?;
    // The zones come from the nodes' services, which only admins may
    // list: asked here as the service itself.
    let all = service::nodes_as_services(ctx).await?;
    let mut zones: Vec<Zone> = Vec::new();
    for s in all {
        match zones.iter_mut().find(|z| z.name == s.zone) {
            Some(z) => {
                z.available |= usable(&s);
                z.hosts.push(s);
            }
            None => zones.push(Zone {
                name: s.zone.clone(),
                available: usable(&s),
                hosts: vec![s],
            }),
        }
    }
    zones.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(zones)
}
