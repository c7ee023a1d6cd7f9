//! Role assignments: an actor (user or group) holds a role on a target
//! (project, domain or the system), optionally inherited down the tree.

use std::collections::BTreeSet;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, Condition};

use super::{domain, group, internal, project, role, store_err, user};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ActorType {
    #[sea_orm(string_value = "user")]
    User,
    #[sea_orm(string_value = "group")]
    Group,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TargetType {
    #[sea_orm(string_value = "project")]
    Project,
    #[sea_orm(string_value = "domain")]
    Domain,
    #[sea_orm(string_value = "system")]
    System,
}

/// The target id of a system assignment: Keystone's only system is `all`.
pub const SYSTEM_ALL: &str = "all";

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, DeriveEntityModel)]
#[sea_orm(table_name = "assignment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub actor_type: ActorType,
    #[sea_orm(primary_key, auto_increment = false)]
    pub actor_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub target_type: TargetType,
    #[sea_orm(primary_key, auto_increment = false)]
    pub target_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub role_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub inherited: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where a role applies, for [`roles_for`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Project(String),
    Domain(String),
    System,
}

/// Grants a role; granting it again is not an error (Keystone's PUT). The
/// role, the actor and a project or domain target must exist.
pub async fn grant(db: &impl ConnectionTrait, a: &Model) -> Result<(), Error> {
    role::get(db, &a.role_id).await?;
    match a.actor_type {
        ActorType::User => user::get(db, &a.actor_id).await.map(drop)?,
        ActorType::Group => group::get(db, &a.actor_id).await.map(drop)?,
    }
    match a.target_type {
        TargetType::Project => project::get(db, &a.target_id).await.map(drop)?,
        TargetType::Domain => domain::get(db, &a.target_id).await.map(drop)?,
        TargetType::System if a.target_id != SYSTEM_ALL => {
            return Err(Error::BadRequest(format!(
                "Unknown system target {}; only `all` exists.",
                a.target_id
            )));
        }
        TargetType::System => {}
    }
    if exists(db, a).await? {
        return Ok(());
    }
    let inserted = ActiveModel {
        actor_type: Set(a.actor_type),
        actor_id: Set(a.actor_id.clone()),
        target_type: Set(a.target_type),
        target_id: Set(a.target_id.clone()),
        role_id: Set(a.role_id.clone()),
        inherited: Set(a.inherited),
    }
    .insert(db)
    .await;
    match inserted.map_err(store_err("role assignment")) {
        // A concurrent grant won the race: the assignment exists, as asked.
        Ok(_) | Err(Error::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn exists(db: &impl ConnectionTrait, a: &Model) -> Result<bool, Error> {
    let key = (
        a.actor_type,
        a.actor_id.clone(),
        a.target_type,
        a.target_id.clone(),
        a.role_id.clone(),
        a.inherited,
    );
    Ok(Entity::find_by_id(key)
        .one(db)
        .await
        .map_err(internal)?
        .is_some())
}

/// Revokes a role; revoking one that is not granted is NotFound, as in Keystone.
pub async fn revoke(db: &impl ConnectionTrait, a: &Model) -> Result<(), Error> {
    let gone = Entity::delete_many()
        .filter(actor(a.actor_type, &a.actor_id))
        .filter(target(a.target_type, &a.target_id))
        .filter(Column::RoleId.eq(a.role_id.as_str()))
        .filter(Column::Inherited.eq(a.inherited))
        .exec(db)
        .await
        .map_err(internal)?;
    if gone.rows_affected == 0 {
        return Err(Error::not_found("role assignment", &a.role_id));
    }
    Ok(())
}

pub(crate) async fn delete_for_actor(
    db: &impl ConnectionTrait,
    actor_type: ActorType,
    id: &str,
) -> Result<(), Error> {
    Entity::delete_many()
        .filter(actor(actor_type, id))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

pub(crate) async fn delete_for_target(
    db: &impl ConnectionTrait,
    target_type: TargetType,
    id: &str,
) -> Result<(), Error> {
    Entity::delete_many()
        .filter(target(target_type, id))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

fn actor(t: ActorType, id: &str) -> Condition {
    Condition::all()
        .add(Column::ActorType.eq(t))
        .add(Column::ActorId.eq(id))
}

fn target(t: TargetType, id: &str) -> Condition {
    Condition::all()
        .add(Column::TargetType.eq(t))
        .add(Column::TargetId.eq(id))
}

/// The user and the groups it belongs to, as one condition on the actor
/// (group membership as a subquery: no query of its own).
pub(crate) fn actors_of(user_id: &str) -> Condition {
    Condition::any().add(actor(ActorType::User, user_id)).add(
        Condition::all()
            .add(Column::ActorType.eq(ActorType::Group))
            .add(group::in_groups_of(Column::ActorId, user_id)),
    )
}

/// The roles `user_id` holds on `target`: direct and through its groups;
/// on a project also those inherited from its domain and its ancestors.
pub async fn roles_for(
    db: &impl ConnectionTrait,
    user_id: &str,
    on: &Target,
) -> Result<Vec<role::Model>, Error> {
    match on {
        Target::Project(id) => {
            let p = project::get(db, id).await?;
            roles_on_project(db, user_id, &p).await
        }
        Target::Domain(id) => {
            let targets = Condition::any()
                .add(target(TargetType::Domain, id).add(Column::Inherited.eq(false)));
            roles_where(db, user_id, targets).await
        }
        Target::System => {
            let targets = Condition::any().add(target(TargetType::System, SYSTEM_ALL));
            roles_where(db, user_id, targets).await
        }
    }
}

/// [`roles_for`] a project the caller has read already.
pub async fn roles_on_project(
    db: &impl ConnectionTrait,
    user_id: &str,
    p: &project::Model,
) -> Result<Vec<role::Model>, Error> {
    let ancestors = project::ancestors(db, p).await?;
    let mut targets =
        Condition::any().add(target(TargetType::Project, &p.id).add(Column::Inherited.eq(false)));
    for ancestor in &ancestors {
        targets =
            targets.add(target(TargetType::Project, &ancestor.id).add(Column::Inherited.eq(true)));
    }
    let root = ancestors.last().unwrap_or(p);
    targets =
        targets.add(target(TargetType::Domain, &root.domain_id).add(Column::Inherited.eq(true)));
    roles_where(db, user_id, targets).await
}

async fn roles_where(
    db: &impl ConnectionTrait,
    user_id: &str,
    targets: Condition,
) -> Result<Vec<role::Model>, Error> {
    let rows = Entity::find()
        .filter(actors_of(user_id))
        .filter(targets)
        .all(db)
        .await
        .map_err(internal)?;
    let ids: BTreeSet<String> = rows.into_iter().map(|a| a.role_id).collect();
    let mut roles = role::get_many(db, &ids.into_iter().collect::<Vec<_>>()).await?;
    roles.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(roles)
}

mod listing;
pub use listing::{AssignmentFilter, list};
