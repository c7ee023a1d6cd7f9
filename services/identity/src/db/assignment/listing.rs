//! Listing role assignments, plainly or "effective": group assignments
//! expanded to the group's members and inherited assignments expanded to
//! the projects they apply to, as Keystone's `?effective` does.

use std::collections::BTreeSet;

use virga_common::Error;
use virga_db::sea_orm::QueryOrder;
use virga_db::sea_orm::entity::prelude::*;

use super::{ActorType, Column, Entity, Model, SYSTEM_ALL, TargetType, actor, actors_of, target};
use crate::db::{group, internal, project};

#[derive(Debug, Clone, Default)]
pub struct AssignmentFilter {
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub project_id: Option<String>,
    pub domain_id: Option<String>,
    /// Only system assignments.
    pub system: bool,
    pub role_id: Option<String>,
    /// Expand groups into their members and inheritance into projects.
    pub effective: bool,
}

pub async fn list(db: &impl ConnectionTrait, f: &AssignmentFilter) -> Result<Vec<Model>, Error> {
    if f.effective && f.group_id.is_some() {
        // Keystone refuses this combination: effective lists users only.
        return Err(Error::BadRequest(
            "Combining effective and group filter will always result in an empty list.".into(),
        ));
    }
    let mut q = Entity::find();
    if let Some(r) = &f.role_id {
        q = q.filter(Column::RoleId.eq(r.as_str()));
    }
    if let Some(g) = &f.group_id {
        q = q.filter(actor(ActorType::Group, g));
    }
    if let Some(u) = &f.user_id {
        q = if f.effective {
            q.filter(actors_of(u))
        } else {
            q.filter(actor(ActorType::User, u))
        };
    }
    if !f.effective {
        // Targets can be filtered in SQL only when nothing is expanded.
        if let Some(p) = &f.project_id {
            q = q.filter(target(TargetType::Project, p));
        }
        if let Some(d) = &f.domain_id {
            q = q.filter(target(TargetType::Domain, d));
        }
        if f.system {
            q = q.filter(target(TargetType::System, SYSTEM_ALL));
        }
    }
    let rows = q
        .order_by_asc(Column::ActorId)
        .order_by_asc(Column::TargetId)
        .order_by_asc(Column::RoleId)
        .all(db)
        .await
        .map_err(internal)?;
    if !f.effective {
        return Ok(rows);
    }
    let mut out = BTreeSet::new();
    for a in rows {
        for expanded in expand_target(db, a).await? {
            for e in expand_actor(db, expanded, f.user_id.as_deref()).await? {
                out.insert(e);
            }
        }
    }
    Ok(out.into_iter().filter(|a| matches_target(a, f)).collect())
}

fn matches_target(a: &Model, f: &AssignmentFilter) -> bool {
    let is = |t: TargetType, id: &Option<String>| {
        id.as_ref()
            .is_none_or(|id| a.target_type == t && &a.target_id == id)
    };
    is(TargetType::Project, &f.project_id)
        && is(TargetType::Domain, &f.domain_id)
        && (!f.system || a.target_type == TargetType::System)
}

/// An inherited assignment becomes one plain assignment per project it
/// reaches (every project of a domain, or a project's subtree); it does not
/// apply to its own target.
async fn expand_target(db: &impl ConnectionTrait, a: Model) -> Result<Vec<Model>, Error> {
    if !a.inherited {
        return Ok(vec![a]);
    }
    let reached: Vec<String> = match a.target_type {
        TargetType::Domain => projects_in_domain(db, &a.target_id)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect(),
        TargetType::Project => {
            let root = project::get(db, &a.target_id).await?;
            let all = projects_in_domain(db, &root.domain_id).await?;
            descendants(&all, &root.id)
        }
        TargetType::System => Vec::new(),
    };
    Ok(reached
        .into_iter()
        .map(|id| Model {
            target_type: TargetType::Project,
            target_id: id,
            inherited: false,
            ..a.clone()
        })
        .collect())
}

/// A group assignment becomes one per member (only `only_user` if given).
async fn expand_actor(
    db: &impl ConnectionTrait,
    a: Model,
    only_user: Option<&str>,
) -> Result<Vec<Model>, Error> {
    if a.actor_type == ActorType::User {
        return Ok(vec![a]);
    }
    let members = group::member_ids(db, &a.actor_id).await?;
    Ok(members
        .into_iter()
        .filter(|m| only_user.is_none_or(|u| u == m))
        .map(|m| Model {
            actor_type: ActorType::User,
            actor_id: m,
            ..a.clone()
        })
        .collect())
}

async fn projects_in_domain(
    db: &impl ConnectionTrait,
    domain_id: &str,
) -> Result<Vec<project::Model>, Error> {
    project::Entity::find()
        .filter(project::Column::DomainId.eq(domain_id))
        .all(db)
        .await
        .map_err(internal)
}

/// The ids of all projects below `root` (not `root` itself).
fn descendants(all: &[project::Model], root: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut frontier = vec![root.to_string()];
    while let Some(parent) = frontier.pop() {
        for child in all
            .iter()
            .filter(|p| p.parent_id.as_deref() == Some(&parent))
        {
            if !out.contains(&child.id) {
                out.push(child.id.clone());
                frontier.push(child.id.clone());
            }
        }
    }
    out
}
