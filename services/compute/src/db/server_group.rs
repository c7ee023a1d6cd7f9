//! `server_group` and `server_group_member`: projects' server groups and
//! the servers in them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder, QuerySelect};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "server_group")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub name: String,
    /// `affinity` or `anti-affinity`.
    pub policy: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `server_group_member` table.
pub mod member {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "server_group_member")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub group_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub server_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// The groups of `project` (`None`: every project's), oldest first, a page
/// of them (`offset`, `limit`).
pub async fn list(
    db: &impl ConnectionTrait,
    project: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<Vec<Model>, Error> {
    let mut q = Entity::find();
    if let Some(p) = project {
        q = q.filter(Column::ProjectId.eq(p));
    }
    q.order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
        .map_err(internal)
}

pub async fn count(db: &impl ConnectionTrait, project: &str) -> Result<u64, Error> {
    Entity::find()
        .filter(Column::ProjectId.eq(project))
        .count(db)
        .await
        .map_err(internal)
}

pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model().insert(db).await.map_err(internal)
}

/// Deletes the group (its member rows go with it); false when none.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool, Error> {
    let r = Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected > 0)
}

/// The members of each of `groups`, by group.
pub async fn members(
    db: &impl ConnectionTrait,
    groups: &[String],
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if groups.is_empty() {
        return Ok(out);
    }
    for m in member::Entity::find()
        .filter(member::Column::GroupId.is_in(groups.iter().cloned()))
        .order_by_asc(member::Column::ServerId)
        .all(db)
        .await
        .map_err(internal)?
    {
        out.entry(m.group_id).or_default().push(m.server_id);
    }
    Ok(out)
}

pub async fn add_member(db: &impl ConnectionTrait, group: &str, server: &str) -> Result<(), Error> {
    member::Model {
        group_id: group.to_owned(),
        server_id: server.to_owned(),
    }
    .into_active_model()
    .insert(db)
    .await
    .map_err(internal)?;
    Ok(())
}

pub async fn remove_member(
    db: &impl ConnectionTrait,
    group: &str,
    server: &str,
) -> Result<(), Error> {
    member::Entity::delete_many()
        .filter(member::Column::GroupId.eq(group))
        .filter(member::Column::ServerId.eq(server))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
