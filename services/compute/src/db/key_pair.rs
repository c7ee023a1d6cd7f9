//! `key_pair`: users' SSH public keys, unique by (user, name).

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::{internal, is_unique_violation};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "key_pair")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: String,
    pub name: String,
    pub fingerprint: String,
    pub public_key: String,
    /// `ssh` or `x509` (microversion 2.2).
    #[sea_orm(column_name = "type")]
    pub kind: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The user's key pairs, by name.
pub async fn of_user(db: &impl ConnectionTrait, user: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::UserId.eq(user))
        .order_by_asc(Column::Name)
        .all(db)
        .await
        .map_err(internal)
}

pub async fn count(db: &impl ConnectionTrait, user: &str) -> Result<u64, Error> {
    Entity::find()
        .filter(Column::UserId.eq(user))
        .count(db)
        .await
        .map_err(internal)
}

pub async fn find(
    db: &impl ConnectionTrait,
    user: &str,
    name: &str,
) -> Result<Option<Model>, Error> {
    Entity::find()
        .filter(Column::UserId.eq(user))
        .filter(Column::Name.eq(name))
        .one(db)
        .await
        .map_err(internal)
}

/// Inserts a key pair; `None` when the user has one by that name.
pub async fn insert(
    db: &impl ConnectionTrait,
    user: &str,
    name: &str,
    fingerprint: &str,
    public_key: &str,
    kind: &str,
) -> Result<Option<Model>, Error> {
    let a = ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        user_id: sea_orm::ActiveValue::Set(user.to_owned()),
        name: sea_orm::ActiveValue::Set(name.to_owned()),
        fingerprint: sea_orm::ActiveValue::Set(fingerprint.to_owned()),
        public_key: sea_orm::ActiveValue::Set(public_key.to_owned()),
        kind: sea_orm::ActiveValue::Set(kind.to_owned()),
        created_at: sea_orm::ActiveValue::Set(super::now()),
    };
    match a.insert(db).await {
        Ok(m) => Ok(Some(m)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(internal(e)),
    }
}

/// Deletes one; false when the user had none by that name.
pub async fn delete(db: &impl ConnectionTrait, user: &str, name: &str) -> Result<bool, Error> {
    let r = Entity::delete_many()
        .filter(Column::UserId.eq(user))
        .filter(Column::Name.eq(name))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected > 0)
}
