//! Security group rules: creation (checked and normalised by `check`,
//! refused when the group already has the same rule), listing, deletion.
//! A group's rule changes are serialised by bumping its revision first.

pub mod check;

use virga_common::Error;
use virga_db::sea_orm::{ColumnTrait, Condition};
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use self::check::{Normal, RuleRequest};
use super::listing::{self, ListQuery};
use crate::db::listing::Kind;
use crate::db::security_group_rule::{self, Column, Entity, Model};
use crate::db::{now, security_group};

pub const KIND: &str = "Security Group Rule";

fn normal(m: &Model) -> Normal {
    Normal {
        direction: m.direction.clone(),
        ethertype: m.ethertype.clone(),
        protocol: m.protocol.clone(),
        port_range_min: m.port_range_min,
        port_range_max: m.port_range_max,
        remote_ip_prefix: m.remote_ip_prefix.clone(),
        remote_group_id: m.remote_group_id.clone(),
    }
}

fn target(project: &str) -> Target {
    Target::new().with("project_id", project.to_owned())
}

/// The rule, if the caller may see it; else 404.
pub async fn visible(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Model, Error> {
    let m = security_group_rule::find(ctx.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    auth.enforce_visible(
        "network:get_security_group_rule",
        &target(&m.project_id),
        KIND,
        id,
    )?;
    Ok(m)
}

pub async fn create(
    ctx: &ServiceContext,
    auth: &Auth,
    group_id: &str,
    request: RuleRequest,
    description: String,
) -> Result<Model, Error> {
    let group = super::security_group::visible(ctx, auth, group_id).await?;
    auth.enforce(
        "network:create_security_group_rule",
        &target(&group.project_id),
    )?;
    let n = check::normalize(&request)?;
    if let Some(remote) = &n.remote_group_id {
        super::security_group::visible(ctx, auth, remote).await?;
    }
    let at = now();
    let m = Model {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: group.project_id.clone(),
        security_group_id: group.id.clone(),
        direction: n.direction.clone(),
        ethertype: n.ethertype.clone(),
        protocol: n.protocol.clone(),
        port_range_min: n.port_range_min,
        port_range_max: n.port_range_max,
        remote_ip_prefix: n.remote_ip_prefix.clone(),
        remote_group_id: n.remote_group_id.clone(),
        description,
        created_at: at,
        updated_at: at,
        revision_number: 0,
    };
    let quota = super::quota::Limits::read(ctx, &group.project_id).await?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if !security_group::touch(&txn, &group.id).await? {
        return Err(Error::not_found(super::security_group::KIND, &group.id));
    }
    quota.check(&txn, "security_group_rule", 1).await?;
    let existing = security_group_rule::of_groups(&txn, std::slice::from_ref(&group.id))
        .await?
        .remove(&group.id)
        .unwrap_or_default();
    if let Some(dup) = existing.iter().find(|r| check::same(&normal(r), &n)) {
        return Err(super::coded(
            "SecurityGroupRuleExists",
            format!("Security group rule already exists. Rule id is {}.", dup.id),
        ));
    }
    let m = security_group_rule::insert(&txn, m).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(rule = %m.id, group = %m.security_group_id, "security group rule created");
    Ok(m)
}

fn columns(attr: &str) -> Option<(Column, Kind)> {
    Some(match attr {
        "id" => (Column::Id, Kind::Text),
        "security_group_id" => (Column::SecurityGroupId, Kind::Text),
        "project_id" | "tenant_id" => (Column::ProjectId, Kind::Text),
        "direction" => (Column::Direction, Kind::Text),
        "ethertype" => (Column::Ethertype, Kind::Text),
        "protocol" => (Column::Protocol, Kind::NullableText),
        "port_range_min" => (Column::PortRangeMin, Kind::Int),
        "port_range_max" => (Column::PortRangeMax, Kind::Int),
        "remote_ip_prefix" => (Column::RemoteIpPrefix, Kind::NullableText),
        "remote_group_id" => (Column::RemoteGroupId, Kind::NullableText),
        "description" => (Column::Description, Kind::Text),
        "revision_number" => (Column::RevisionNumber, Kind::Int),
        _ => return None,
    })
}

pub const FILTERS: &[&str] = &[
    "id",
    "security_group_id",
    "project_id",
    "tenant_id",
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "description",
    "revision_number",
];
pub const SORT_KEYS: &[&str] = &[
    "id",
    "security_group_id",
    "project_id",
    "tenant_id",
    "direction",
    "ethertype",
    "protocol",
];

pub async fn list(ctx: &ServiceContext, auth: &Auth, q: &ListQuery) -> Result<Vec<Model>, Error> {
    let scope = if super::network::is_admin(auth) {
        Condition::all()
    } else {
        let p = auth.claims().project_id().unwrap_or_default().to_owned();
        Condition::all().add(Column::ProjectId.eq(p))
    };
    let marker = match &q.marker {
        Some(id) => visible(ctx, auth, id).await.ok(),
        None => None,
    };
    let spec = listing::spec::<Entity>(q, scope, columns, marker)?;
    crate::db::listing::list(ctx.db(), Column::Id, spec).await
}

pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    let m = visible(ctx, auth, id).await?;
    auth.enforce("network:delete_security_group_rule", &target(&m.project_id))?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    security_group::touch(&txn, &m.security_group_id).await?;
    security_group_rule::delete(&txn, id).await?;
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(rule = %id, "security group rule deleted");
    Ok(())
}
