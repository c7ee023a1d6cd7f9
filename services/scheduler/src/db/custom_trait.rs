//! Custom traits (`CUSTOM_*`): `custom_trait`. The standard ones are fixed
//! in code (`app::traits`).

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::OnConflict;
use virga_db::sea_orm::{ActiveValue::Set, QueryOrder};

use super::{internal, now};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "custom_trait")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<String>, Error> {
    let rows = Entity::find()
        .order_by_asc(Column::Name)
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// Which of `names` exist.
pub async fn existing(db: &impl ConnectionTrait, names: &[String]) -> Result<Vec<String>, Error> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let rows = Entity::find()
        .filter(Column::Name.is_in(names.iter().map(String::as_str)))
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// Creates it; false when it existed.
pub async fn create(db: &impl ConnectionTrait, name: &str) -> Result<bool, Error> {
    let row = ActiveModel {
        name: Set(name.to_owned()),
        created_at: Set(now()),
    };
    let n = Entity::insert(row)
        .on_conflict(OnConflict::column(Column::Name).do_nothing().to_owned())
        .exec_without_returning(db)
        .await
        .map_err(internal)?;
    Ok(n == 1)
}

pub async fn delete(db: &impl ConnectionTrait, name: &str) -> Result<(), Error> {
    Entity::delete_by_id(name.to_owned())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
