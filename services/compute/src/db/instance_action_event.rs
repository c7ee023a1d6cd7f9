//! `instance_action_event`: one step of a server action and how it ended
//! (`Success`, `Error` with what went wrong), Nova's action events.

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::Expr;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder};

use super::internal;

pub const SUCCESS: &str = "Success";
pub const ERROR: &str = "Error";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance_action_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub action_id: String,
    /// Nova's names: `compute_stop_instance`, ...
    pub event: String,
    pub start_time: DateTime<Utc>,
    pub finish_time: Option<DateTime<Utc>>,
    pub result: Option<String>,
    /// What went wrong (admins only).
    pub traceback: Option<String>,
    /// The node it ran on.
    pub host: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn insert(
    db: &impl ConnectionTrait,
    action: &str,
    event: &str,
    host: Option<&str>,
    at: DateTime<Utc>,
    done: Option<Result<(), &str>>,
) -> Result<(), Error> {
    Model {
        id: uuid::Uuid::new_v4().to_string(),
        action_id: action.to_owned(),
        event: event.to_owned(),
        start_time: at,
        finish_time: done.map(|_| at),
        result: done.map(|d| if d.is_ok() { SUCCESS } else { ERROR }.to_owned()),
        traceback: done.and_then(|d| d.err()).map(str::to_owned),
        host: host.map(str::to_owned),
    }
    .into_active_model()
    .insert(db)
    .await
    .map_err(internal)?;
    Ok(())
}

/// Ends the action's events that have not ended.
pub async fn finish_open(
    db: &impl ConnectionTrait,
    action: &str,
    outcome: Result<(), &str>,
) -> Result<(), Error> {
    let result = if outcome.is_ok() { SUCCESS } else { ERROR };
    Entity::update_many()
        .col_expr(Column::FinishTime, Expr::value(super::now()))
        .col_expr(Column::Result, Expr::value(result))
        .col_expr(
            Column::Traceback,
            Expr::value(outcome.err().map(str::to_owned)),
        )
        .filter(Column::ActionId.eq(action))
        .filter(Column::FinishTime.is_null())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// The action's events, in the order they started.
pub async fn of_action(db: &impl ConnectionTrait, action: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::ActionId.eq(action))
        .order_by_asc(Column::StartTime)
        .all(db)
        .await
        .map_err(internal)
}
