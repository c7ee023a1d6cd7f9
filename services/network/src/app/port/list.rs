//! Listing ports: Neutron's filters (`fixed_ips=ip_address=...`,
//! `security_groups=...` among them), sort keys, and what the caller sees
//! (its project's ports and those on its networks).

use virga_common::Error;
use virga_db::sea_orm::{ColumnTrait, Condition, ConnectionTrait};
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::{PortDoc, docs, visible};
use crate::app::listing::{self, ListQuery};
use crate::db::listing::Kind;
use crate::db::port::{Column, Entity};
use crate::db::{ip_allocation, network, security_group};

pub(super) fn columns(attr: &str) -> Option<(Column, Kind)> {
    Some(match attr {
        "id" => (Column::Id, Kind::Text),
        "name" => (Column::Name, Kind::Text),
        "description" => (Column::Description, Kind::Text),
        "project_id" | "tenant_id" => (Column::ProjectId, Kind::Text),
        "network_id" => (Column::NetworkId, Kind::Text),
        "mac_address" => (Column::MacAddress, Kind::Text),
        "admin_state_up" => (Column::AdminStateUp, Kind::Bool),
        "status" => (Column::Status, Kind::Text),
        "device_id" => (Column::DeviceId, Kind::Text),
        "device_owner" => (Column::DeviceOwner, Kind::Text),
        "port_security_enabled" => (Column::PortSecurityEnabled, Kind::Bool),
        "binding:host_id" => (Column::BindingHostId, Kind::Text),
        "binding:vnic_type" => (Column::BindingVnicType, Kind::Text),
        "created_at" => (Column::CreatedAt, Kind::Text),
        "updated_at" => (Column::UpdatedAt, Kind::Text),
        "revision_number" => (Column::RevisionNumber, Kind::Int),
        _ => return None,
    })
}

pub const FILTERS: &[&str] = &[
    "id",
    "name",
    "description",
    "project_id",
    "tenant_id",
    "network_id",
    "mac_address",
    "admin_state_up",
    "status",
    "device_id",
    "device_owner",
    "binding:host_id",
    "revision_number",
    "fixed_ips",
    "security_groups",
];

pub const SORT_KEYS: &[&str] = &[
    "id",
    "name",
    "project_id",
    "tenant_id",
    "network_id",
    "mac_address",
    "admin_state_up",
    "status",
    "device_id",
    "device_owner",
];

/// `fixed_ips=ip_address=A` / `fixed_ips=subnet_id=S`: the ports holding
/// one address matching every part given.
async fn fixed_ips_filter(
    db: &impl ConnectionTrait,
    values: &[String],
) -> Result<Condition, Error> {
    let mut subnets = Vec::new();
    let mut ips = Vec::new();
    for v in values {
        match v.split_once('=') {
            Some(("subnet_id", s)) => subnets.push(s.to_owned()),
            Some(("ip_address", a)) => ips.push(a.to_owned()),
            _ => {
                return Err(Error::BadRequest(format!(
                    "Invalid input for fixed_ips. Reason: '{v}' is not ip_address=<address> or subnet_id=<id>."
                )));
            }
        }
    }
    let ports = ip_allocation::ports_matching(db, &subnets, &ips).await?;
    Ok(Condition::all().add(Column::Id.is_in(ports)))
}

pub async fn list(ctx: &ServiceContext, auth: &Auth, q: &ListQuery) -> Result<Vec<PortDoc>, Error> {
    let mut scope = if crate::app::network::sees_every_project(auth) {
        Condition::all()
    } else {
        let project = auth.claims().project_id().unwrap_or_default().to_owned();
        let owned = network::ids_of_project(ctx.db(), &project).await?;
        Condition::any()
            .add(Column::ProjectId.eq(project))
            .add(Column::NetworkId.is_in(owned))
    };
    if let Some(groups) = q.filter("security_groups") {
        let ports = security_group::ports_in_any(ctx.db(), groups).await?;
        scope = Condition::all().add(scope).add(Column::Id.is_in(ports));
    }
    if let Some(values) = q.filter("fixed_ips") {
        scope = Condition::all()
            .add(scope)
            .add(fixed_ips_filter(ctx.db(), values).await?);
    }
    // An unknown marker is 404, as Neutron answers for ports.
    let marker = match &q.marker {
        Some(id) => Some(visible(ctx, auth, id).await?.0),
        None => None,
    };
    let spec = listing::spec::<Entity>(q, scope, columns, marker)?;
    let rows = crate::db::listing::list(ctx.db(), Column::Id, spec).await?;
    docs(ctx.db(), rows).await
}
