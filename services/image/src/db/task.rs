//! Import tasks: the `image_task` table. A task is claimed by one worker at
//! a time through a lease that the worker renews; an expired lease on an
//! unfinished task means its worker died, and any worker may take it up.

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::Expr;
use virga_db::sea_orm::{Condition, IntoActiveModel, QueryOrder};

use super::{internal, now, store_err};

pub const PENDING: &str = "pending";
pub const PROCESSING: &str = "processing";
pub const SUCCESS: &str = "success";
pub const FAILURE: &str = "failure";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "image_task")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub image_id: String,
    #[sea_orm(column_name = "type")]
    pub kind: String,
    pub status: String,
    pub input: String,
    pub result: Option<String>,
    pub message: String,
    pub owner: Option<String>,
    pub user_id: Option<String>,
    pub request_id: Option<String>,
    pub host: Option<String>,
    pub lease_until: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn create(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model()
        .insert(db)
        .await
        .map_err(store_err("task"))
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_string())
        .one(db)
        .await
        .map_err(internal)
}

/// An image's tasks, oldest first.
pub async fn for_image(db: &impl ConnectionTrait, image_id: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::ImageId.eq(image_id))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
        .map_err(internal)
}

/// Unfinished tasks nobody holds: never claimed, or their lease ran out.
pub async fn orphans(db: &impl ConnectionTrait) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::Status.is_in([PENDING, PROCESSING]))
        .filter(
            Condition::any()
                .add(Column::LeaseUntil.is_null())
                .add(Column::LeaseUntil.lt(now())),
        )
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await
        .map_err(internal)
}

/// Takes the task if its lease is still what the caller saw (so of two
/// workers racing for an orphan, one wins), marking it processing.
pub async fn claim(
    db: &impl ConnectionTrait,
    seen: &Model,
    until: DateTime<Utc>,
) -> Result<bool, Error> {
    let lease = match seen.lease_until {
        Some(l) => Column::LeaseUntil.eq(l),
        None => Column::LeaseUntil.is_null(),
    };
    let r = Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(until))
        .col_expr(Column::Status, Expr::value(PROCESSING))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(&seen.id))
        .filter(Column::Status.is_in([PENDING, PROCESSING]))
        .filter(lease)
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// Extends a held lease and records progress.
pub async fn renew(
    db: &impl ConnectionTrait,
    id: &str,
    until: DateTime<Utc>,
    message: &str,
) -> Result<(), Error> {
    Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(until))
        .col_expr(Column::Message, Expr::value(message))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(PROCESSING))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Ends a task: `success` or `failure`, with a message for the user.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: &str,
    status: &str,
    message: &str,
    result: Option<String>,
) -> Result<(), Error> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::Message, Expr::value(message))
        .col_expr(Column::Result, Expr::value(result))
        .col_expr(
            Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
