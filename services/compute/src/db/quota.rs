//! `quota`: the limits an admin set, per project and resource.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::ActiveValue::Set;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::OnConflict;

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quota")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource: String,
    pub hard_limit: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The limits an admin set for the project, by resource.
pub async fn of_project(
    db: &impl ConnectionTrait,
    project: &str,
) -> Result<BTreeMap<String, i64>, Error> {
    Ok(Entity::find()
        .filter(Column::ProjectId.eq(project))
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|m| (m.resource, m.hard_limit))
        .collect())
}

/// Sets each limit (adding or replacing).
pub async fn set(
    db: &impl ConnectionTrait,
    project: &str,
    limits: &BTreeMap<String, i64>,
) -> Result<(), Error> {
    if limits.is_empty() {
        return Ok(());
    }
    let rows = limits.iter().map(|(r, l)| ActiveModel {
        project_id: Set(project.to_owned()),
        resource: Set(r.clone()),
        hard_limit: Set(*l),
    });
    Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([Column::ProjectId, Column::Resource])
                .update_column(Column::HardLimit)
                .to_owned(),
        )
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Forgets the project's limits (the defaults apply again).
pub async fn delete_project(db: &impl ConnectionTrait, project: &str) -> Result<(), Error> {
    Entity::delete_many()
        .filter(Column::ProjectId.eq(project))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
