//! Network's logic, one module per resource.

pub mod extension;
pub mod fixed_ips;
pub mod floating_ip;
pub mod ipam;
pub mod listing;
pub mod network;
pub mod node_plan;
pub mod port;
pub mod quota;
pub mod router;
pub mod router_interface;
pub mod security_group;
pub mod security_group_rule;
pub mod segment;
pub mod subnet;
pub mod versions;

use virga_common::Error;
use virga_service::auth::Auth;

/// A 409 whose Neutron type names the exception (`NetworkInUse`, ...).
pub fn coded(code: &'static str, message: String) -> Error {
    Error::CodedConflict { code, message }
}

/// The project a new resource belongs to: the one named in the body, else
/// the token's. Only admins may name another project.
pub fn project_of(auth: &Auth, named: Option<&str>) -> Result<String, Error> {
    let own = auth.claims().project_id();
    // Admins, and services acting for a project (compute making a
    // server's ports, as Neutron's service role may), name any project.
    let any = network::sees_every_project(auth);
    match (named, own) {
        (Some(p), _) if Some(p) == own || any => Ok(p.to_owned()),
        (Some(_), _) => Err(Error::BadRequest(
            "Specifying 'project_id' other than the authenticated project in request is not allowed for the current user.".into(),
        )),
        (None, Some(p)) => Ok(p.to_owned()),
        (None, None) => Err(Error::BadRequest(
            "'project_id' must be specified: the token is not scoped to a project.".into(),
        )),
    }
}
