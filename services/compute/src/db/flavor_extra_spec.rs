//! `flavor_extra_spec`: a flavor's key/value pairs (accelerators, traits,
//! CPU policies...).

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::OnConflict;
use virga_db::sea_orm::{ConnectionTrait, EntityTrait, QueryFilter};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "flavor_extra_spec")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub flavor_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub value: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The flavor's extra specs, by key.
pub async fn of(
    db: &impl ConnectionTrait,
    flavor: &str,
) -> Result<BTreeMap<String, String>, Error> {
    Ok(Entity::find()
        .filter(Column::FlavorId.eq(flavor))
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|m| (m.key, m.value))
        .collect())
}

/// One key's value, if the flavor has it.
pub async fn get(
    db: &impl ConnectionTrait,
    flavor: &str,
    key: &str,
) -> Result<Option<String>, Error> {
    Ok(Entity::find_by_id((flavor.to_owned(), key.to_owned()))
        .one(db)
        .await
        .map_err(internal)?
        .map(|m| m.value))
}

/// Sets each pair (adding or replacing).
pub async fn set(
    db: &impl ConnectionTrait,
    flavor: &str,
    specs: &BTreeMap<String, String>,
) -> Result<(), Error> {
    if specs.is_empty() {
        return Ok(());
    }
    let rows = specs.iter().map(|(k, v)| ActiveModel {
        flavor_id: sea_orm::ActiveValue::Set(flavor.to_owned()),
        key: sea_orm::ActiveValue::Set(k.clone()),
        value: sea_orm::ActiveValue::Set(v.clone()),
    });
    Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([Column::FlavorId, Column::Key])
                .update_column(Column::Value)
                .to_owned(),
        )
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Deletes one key; false when the flavor had no such key.
pub async fn delete(db: &impl ConnectionTrait, flavor: &str, key: &str) -> Result<bool, Error> {
    let r = Entity::delete_many()
        .filter(Column::FlavorId.eq(flavor))
        .filter(Column::Key.eq(key))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected > 0)
}
