//! `flavor_access`: the projects a private flavor is shared with.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};

use super::{internal, is_unique_violation};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "flavor_access")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub flavor_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The projects the flavor is shared with, sorted.
pub async fn of(db: &impl ConnectionTrait, flavor: &str) -> Result<Vec<String>, Error> {
    Ok(Entity::find()
        .filter(Column::FlavorId.eq(flavor))
        .order_by_asc(Column::ProjectId)
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|m| m.project_id)
        .collect())
}

/// Whether the project may use the flavor through sharing.
pub async fn has(db: &impl ConnectionTrait, flavor: &str, project: &str) -> Result<bool, Error> {
    Ok(Entity::find_by_id((flavor.to_owned(), project.to_owned()))
        .one(db)
        .await
        .map_err(internal)?
        .is_some())
}

/// Shares the flavor; false when it already was.
pub async fn add(db: &impl ConnectionTrait, flavor: &str, project: &str) -> Result<bool, Error> {
    let m = Model {
        flavor_id: flavor.to_owned(),
        project_id: project.to_owned(),
    };
    match m.into_active_model().insert(db).await {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(internal(e)),
    }
}

/// Stops sharing; false when it was not shared.
pub async fn remove(db: &impl ConnectionTrait, flavor: &str, project: &str) -> Result<bool, Error> {
    let r = Entity::delete_by_id((flavor.to_owned(), project.to_owned()))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected > 0)
}
