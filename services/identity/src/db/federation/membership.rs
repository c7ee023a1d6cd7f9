//! Group memberships a federated login grants: renewed at each login from
//! what the mapping says, and ignored once expired (Keystone's expiring
//! user-group memberships), so an IdP dropping a user from a group takes
//! effect at the next login or when the membership runs out.

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::ActiveValue::Set;
use virga_db::sea_orm::entity::prelude::*;

use crate::db::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "expiring_group_membership")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub idp_id: String,
    pub expires_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Makes `group_ids` the user's memberships through `idp_id`, all expiring
/// at `expires_at`; the ones the login no longer maps are dropped.
pub async fn replace(
    db: &impl ConnectionTrait,
    user_id: &str,
    idp_id: &str,
    group_ids: &[String],
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::IdpId.eq(idp_id))
        .exec(db)
        .await
        .map_err(internal)?;
    if group_ids.is_empty() {
        return Ok(());
    }
    let rows = group_ids.iter().map(|g| ActiveModel {
        user_id: Set(user_id.to_string()),
        group_id: Set(g.clone()),
        idp_id: Set(idp_id.to_string()),
        expires_at: Set(expires_at),
    });
    Entity::insert_many(rows).exec(db).await.map_err(internal)?;
    Ok(())
}

/// The current (unexpired) rows of `user_id`.
pub async fn current_of(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::ExpiresAt.gt(Utc::now()))
        .all(db)
        .await
        .map_err(internal)
}
