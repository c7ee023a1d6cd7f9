//! Custom resource classes (`CUSTOM_*`): `custom_resource_class`. The
//! standard ones are fixed in code (`app::resource_class`).

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::OnConflict;
use virga_db::sea_orm::{ActiveValue::Set, QueryOrder};

use super::{internal, now};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "custom_resource_class")]
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

pub async fn exists(db: &impl ConnectionTrait, name: &str) -> Result<bool, Error> {
    Ok(Entity::find_by_id(name.to_owned())
        .one(db)
        .await
        .map_err(internal)?
        .is_some())
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

pub async fn delete(db: &impl ConnectionTrait, name: &str) -> Result<bool, Error> {
    let r = Entity::delete_by_id(name.to_owned())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// Points every inventory and allocation of class `old` at `new`.
pub async fn move_uses(db: &impl ConnectionTrait, old: &str, new: &str) -> Result<(), Error> {
    use sea_orm::sea_query::Expr;
    super::inventory::Entity::update_many()
        .col_expr(super::inventory::Column::ResourceClass, Expr::value(new))
        .filter(super::inventory::Column::ResourceClass.eq(old))
        .exec(db)
        .await
        .map_err(internal)?;
    super::allocation::Entity::update_many()
        .col_expr(super::allocation::Column::ResourceClass, Expr::value(new))
        .filter(super::allocation::Column::ResourceClass.eq(old))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
