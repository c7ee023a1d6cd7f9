//! Security group rules: one row each, deleted with their group (or with
//! the group they name as remote).

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "security_group_rule")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub project_id: String,
    pub security_group_id: String,
    pub direction: String,
    pub ethertype: String,
    pub protocol: Option<String>,
    pub port_range_min: Option<i32>,
    pub port_range_max: Option<i32>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
    pub description: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub revision_number: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model().insert(db).await.map_err(internal)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// The groups' rules, by group, oldest first.
pub async fn of_groups(
    db: &impl ConnectionTrait,
    groups: &[String],
) -> Result<BTreeMap<String, Vec<Model>>, Error> {
    let mut out: BTreeMap<String, Vec<Model>> = BTreeMap::new();
    for chunk in groups.chunks(500) {
        let rows = Entity::find()
            .filter(Column::SecurityGroupId.is_in(chunk.iter().cloned()))
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .all(db)
            .await
            .map_err(internal)?;
        for r in rows {
            out.entry(r.security_group_id.clone()).or_default().push(r);
        }
    }
    Ok(out)
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
