//! Reservations: `reservation`, the claims `select` made, with the
//! node, the instance group they count for, and until when they hold
//! unless confirmed.

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::Expr;
use virga_db::sea_orm::{IntoActiveModel, SqlErr};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reservation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub consumer_id: String,
    pub node_uuid: String,
    pub group_id: Option<String>,
    pub group_policy: Option<String>,
    pub expires_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The error code of a second claim for one consumer.
pub const CLAIMED: &str = "virga.already_claimed";

/// Records a claim; a conflict when the consumer already has one.
pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<(), Error> {
    let consumer = m.consumer_id.clone();
    match m.into_active_model().insert(db).await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(Error::CodedConflict {
                code: CLAIMED,
                message: format!("Consumer {consumer} already holds a claim; release it first."),
            })
        }
        Err(e) => Err(internal(e)),
    }
}

pub async fn find(db: &impl ConnectionTrait, consumer: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(consumer.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// The nodes the group's members are on.
pub async fn group_nodes(db: &impl ConnectionTrait, group: &str) -> Result<Vec<String>, Error> {
    let rows = Entity::find()
        .filter(Column::GroupId.eq(group))
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|r| r.node_uuid).collect())
}

/// Makes a claim permanent; false when there is no such claim.
pub async fn confirm(db: &impl ConnectionTrait, consumer: &str) -> Result<bool, Error> {
    let r = Entity::update_many()
        .col_expr(
            Column::ExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::ConsumerId.eq(consumer))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

pub async fn delete(db: &impl ConnectionTrait, consumer: &str) -> Result<(), Error> {
    Entity::delete_by_id(consumer.to_owned())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// `from`'s reservation becomes `to`'s (replacing `to`'s): a move's
/// claim now held by the instance that moved.
pub async fn rename(db: &impl ConnectionTrait, from: &str, to: &str) -> Result<(), Error> {
    if find(db, from).await?.is_none() {
        return Ok(());
    }
    delete(db, to).await?;
    Entity::update_many()
        .col_expr(Column::ConsumerId, Expr::value(to.to_owned()))
        .filter(Column::ConsumerId.eq(from))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Unconfirmed claims that ran out before `now`.
pub async fn expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::ExpiresAt.lt(now))
        .all(db)
        .await
        .map_err(internal)
}
