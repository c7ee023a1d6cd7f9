//! Revocation events: tokens issued before a time for a subject (a token
//! id, a user, a project...) are no longer valid.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, Condition, QueryOrder};

use super::{internal, now, store_err};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revocation_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// What `subject` names, e.g. `token`, `user`, `project`.
    pub kind: String,
    pub subject: String,
    pub issued_before: Option<ChronoDateTimeUtc>,
    pub expires_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn record(
    db: &impl ConnectionTrait,
    kind: &str,
    subject: &str,
    issued_before: Option<ChronoDateTimeUtc>,
    expires_at: Option<ChronoDateTimeUtc>,
) -> Result<Model, Error> {
    ActiveModel {
        id: Set(super::new_id()),
        kind: Set(kind.to_string()),
        subject: Set(subject.to_string()),
        issued_before: Set(issued_before),
        expires_at: Set(expires_at),
        created_at: Set(now()),
    }
    .insert(db)
    .await
    .map_err(store_err("revocation event"))
}

/// Events still in force at `at` (not yet expired), oldest first.
pub async fn active(db: &impl ConnectionTrait, at: ChronoDateTimeUtc) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.gt(at)),
        )
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
        .map_err(internal)
}

/// Deletes events that expired by `at`: the tokens they revoke are dead anyway.
pub async fn prune(db: &impl ConnectionTrait, at: ChronoDateTimeUtc) -> Result<u64, Error> {
    let res = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(at))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(res.rows_affected)
}
