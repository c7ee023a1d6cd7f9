//! Security groups: each project's `default` group (made on first need,
//! one per project however many requests race), groups users make (with
//! egress allowed), who may see and change which, and deletion (refused
//! while ports are in the group).

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm::{ColumnTrait, Condition, ConnectionTrait};
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::listing::{self, ListQuery};
use crate::db::listing::Kind;
use crate::db::security_group::{self, Column, Entity, Model};
use crate::db::{now, security_group_rule};

pub const KIND: &str = "Security Group";

/// A group with its rules: what the API shows.
#[derive(Debug, Clone)]
pub struct GroupDoc {
    pub model: Model,
    pub rules: Vec<security_group_rule::Model>,
}

#[derive(Debug, Clone, Default)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub stateful: Option<bool>,
}

pub fn target(m: &Model) -> Target {
    Target::new().with("project_id", m.project_id.clone())
}

/// The group, if the caller may see it; else 404.
pub async fn visible(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Model, Error> {
    let m = security_group::find(ctx.db(), id)
        .await?
        .ok_or_else(|| Error::not_found(KIND, id))?;
    auth.enforce_visible("network:get_security_group", &target(&m), KIND, id)?;
    Ok(m)
}

async fn docs(db: &impl ConnectionTrait, rows: Vec<Model>) -> Result<Vec<GroupDoc>, Error> {
    let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
    let mut rules = security_group_rule::of_groups(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|model| GroupDoc {
            rules: rules.remove(&model.id).unwrap_or_default(),
            model,
        })
        .collect())
}

pub async fn get(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<GroupDoc, Error> {
    let m = visible(ctx, auth, id).await?;
    Ok(docs(ctx.db(), vec![m]).await?.remove(0))
}

/// A new rule row of `group` (the template rules of new groups).
fn template(
    group: &Model,
    direction: &str,
    ethertype: &str,
    remote_group: Option<&str>,
) -> security_group_rule::Model {
    security_group_rule::Model {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: group.project_id.clone(),
        security_group_id: group.id.clone(),
        direction: direction.into(),
        ethertype: ethertype.into(),
        protocol: None,
        port_range_min: None,
        port_range_max: None,
        remote_ip_prefix: None,
        remote_group_id: remote_group.map(str::to_owned),
        description: String::new(),
        created_at: group.created_at,
        updated_at: group.created_at,
        revision_number: 0,
    }
}

fn new_group(project: &str, name: &str, description: &str, stateful: bool) -> Model {
    let at = now();
    Model {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: project.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        stateful,
        created_at: at,
        updated_at: at,
        revision_number: 0,
    }
}

/// The project's default group, made now if it has none: egress allowed,
/// ingress only from members of the group. Concurrent first uses agree on
/// one group: the loser's is rolled back.
pub async fn ensure_default(ctx: &ServiceContext, project: &str) -> Result<String, Error> {
    if let Some(id) = security_group::default_of(ctx.db(), project).await? {
        return Ok(id);
    }
    let g = new_group(project, "default", "Default security group", true);
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let g = security_group::insert(&txn, g).await?;
    let rules = [
        template(&g, "egress", "IPv4", None),
        template(&g, "egress", "IPv6", None),
        template(&g, "ingress", "IPv4", Some(&g.id)),
        template(&g, "ingress", "IPv6", Some(&g.id)),
    ];
    for r in rules {
        security_group_rule::insert(&txn, r).await?;
    }
    if security_group::claim_default(&txn, project, &g.id).await? {
        txn.commit().await.map_err(Error::internal)?;
        crate::app::node_plan::kick(ctx);
        tracing::info!(project, group = %g.id, "default security group created");
        return Ok(g.id);
    }
    drop(txn);
    security_group::default_of(ctx.db(), project)
        .await?
        .ok_or_else(|| Error::internal(std::io::Error::other("default security group vanished")))
}

fn columns(attr: &str) -> Option<(Column, Kind)> {
    Some(match attr {
        "id" => (Column::Id, Kind::Text),
        "name" => (Column::Name, Kind::Text),
        "description" => (Column::Description, Kind::Text),
        "project_id" | "tenant_id" => (Column::ProjectId, Kind::Text),
        "stateful" => (Column::Stateful, Kind::Bool),
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
    "stateful",
    "revision_number",
];
pub const SORT_KEYS: &[&str] = &["id", "name", "project_id", "tenant_id"];

pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    q: &ListQuery,
) -> Result<Vec<GroupDoc>, Error> {
    let admin = super::network::is_admin(auth);
    let own = auth.claims().project_id().map(str::to_owned);
    // Listing shows the caller's default group, made if need be.
    if let Some(p) = &own {
        ensure_default(ctx, p).await?;
    }
    let scope = match (&own, admin) {
        (_, true) => Condition::all(),
        (Some(p), false) => Condition::all().add(Column::ProjectId.eq(p.as_str())),
        (None, false) => Condition::all().add(Column::Id.is_null()),
    };
    let marker = match &q.marker {
        Some(id) => visible(ctx, auth, id).await.ok(),
        None => None,
    };
    let spec = listing::spec::<Entity>(q, scope, columns, marker)?;
    let rows = crate::db::listing::list(ctx.db(), Column::Id, spec).await?;
    docs(ctx.db(), rows).await
}

fn default_exists() -> Error {
    super::coded(
        "SecurityGroupDefaultAlreadyExists",
        "Default security group already exists.".into(),
    )
}

pub async fn create(
    ctx: &ServiceContext,
    auth: &Auth,
    project: Option<String>,
    name: String,
    description: String,
    stateful: bool,
) -> Result<GroupDoc, Error> {
    let project = super::project_of(auth, project.as_deref())?;
    auth.enforce(
        "network:create_security_group",
        &Target::new().with("project_id", project.clone()),
    )?;
    if name.eq_ignore_ascii_case("default") {
        return Err(default_exists());
    }
    ensure_default(ctx, &project).await?;
    let g = new_group(&project, &name, &description, stateful);
    let rules = vec![
        template(&g, "egress", "IPv4", None),
        template(&g, "egress", "IPv6", None),
    ];
    let quota = super::quota::Limits::read(ctx, &project).await?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    quota.check(&txn, "security_group", 1).await?;
    quota
        .check(&txn, "security_group_rule", rules.len() as u64)
        .await?;
    let g = security_group::insert(&txn, g).await?;
    for r in &rules {
        security_group_rule::insert(&txn, r.clone()).await?;
    }
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(group = %g.id, project = %g.project_id, "security group created");
    Ok(GroupDoc { model: g, rules })
}

pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    ch: Result<GroupChanges, Error>,
) -> Result<GroupDoc, Error> {
    let mut m = visible(ctx, auth, id).await?;
    // Only now its body's errors: another project's resource is 404.
    let ch = ch?;
    auth.enforce("network:update_security_group", &target(&m))?;
    let is_default = security_group::is_default(ctx.db(), id).await?;
    if let Some(name) = &ch.name {
        if is_default && name != "default" {
            return Err(super::coded(
                "SecurityGroupCannotUpdateDefault",
                "Updating default security group not allowed.".into(),
            ));
        }
        if !is_default && name.eq_ignore_ascii_case("default") {
            return Err(default_exists());
        }
    }
    if let Some(s) = ch.stateful
        && s != m.stateful
        && !security_group::ports_in(ctx.db(), id).await?.is_empty()
    {
        return Err(in_use(id));
    }
    m.name = ch.name.unwrap_or(m.name);
    m.description = ch.description.unwrap_or(m.description);
    m.stateful = ch.stateful.unwrap_or(m.stateful);
    m.revision_number += 1;
    m.updated_at = now();
    let m = security_group::update(ctx.db(), m).await?;
    Ok(docs(ctx.db(), vec![m]).await?.remove(0))
}

fn in_use(id: &str) -> Error {
    super::coded("SecurityGroupInUse", format!("Security Group {id} in use."))
}

/// Deletes a group no port is in (its rules go with it); a project's
/// default group only by an admin.
pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    let m = visible(ctx, auth, id).await?;
    auth.enforce("network:delete_security_group", &target(&m))?;
    if security_group::is_default(ctx.db(), id).await? && !super::network::is_admin(auth) {
        return Err(super::coded(
            "SecurityGroupCannotRemoveDefault",
            "Insufficient rights for removing default security group.".into(),
        ));
    }
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    security_group::touch(&txn, id).await?;
    if !security_group::ports_in(&txn, id).await?.is_empty()
        || !security_group::delete(&txn, id).await?
    {
        return Err(in_use(id));
    }
    txn.commit().await.map_err(Error::internal)?;
    crate::app::node_plan::kick(ctx);
    tracing::info!(group = %id, "security group deleted");
    Ok(())
}

/// The groups a port is to be in, checked: each exists and belongs to the
/// port's project (an admin's ports may use any).
pub async fn check_for_port(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
    ids: &[String],
) -> Result<Vec<String>, Error> {
    let mut unique: Vec<String> = ids.to_vec();
    unique.sort();
    unique.dedup();
    let found: BTreeMap<String, Model> = security_group::find_many(ctx.db(), &unique)
        .await?
        .into_iter()
        .map(|m| (m.id.clone(), m))
        .collect();
    let admin = super::network::is_admin(auth);
    let missing: Vec<&str> = unique
        .iter()
        .filter(|id| {
            found
                .get(*id)
                .is_none_or(|m| !admin && m.project_id != project)
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Error::not_found(KIND, missing.join(", ")));
    }
    Ok(unique)
}
