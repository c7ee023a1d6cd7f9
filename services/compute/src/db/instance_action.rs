//! `instance_action`: what was asked of a server, by whom and under which
//! request (Nova's instance actions log); its steps' outcomes are
//! [`super::instance_action_event`]s.

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder};

use super::instance_action_event as event;
use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance_action")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub instance_id: String,
    pub request_id: String,
    /// `create`, `delete`, `stop`, `start`, `reboot`, `rebuild`, `pause`,
    /// `unpause`, `lock`, `unlock`.
    pub action: String,
    pub user_id: String,
    pub project_id: String,
    /// `Error` once one of its events failed (Nova's message).
    pub message: Option<String>,
    pub start_time: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Who asked for what, under which request.
pub struct Asked<'a> {
    pub instance: &'a str,
    pub request_id: &'a str,
    pub action: &'a str,
    pub user_id: &'a str,
    pub project_id: &'a str,
}

/// Records the action and the start of its one event (if it has one; on
/// `host`); `finished`: done at once.
pub async fn start(
    db: &impl ConnectionTrait,
    a: &Asked<'_>,
    event_name: Option<&str>,
    host: Option<&str>,
    finished: bool,
) -> Result<(), Error> {
    let at = super::now();
    let id = uuid::Uuid::new_v4().to_string();
    Model {
        id: id.clone(),
        instance_id: a.instance.to_owned(),
        request_id: a.request_id.to_owned(),
        action: a.action.to_owned(),
        user_id: a.user_id.to_owned(),
        project_id: a.project_id.to_owned(),
        message: None,
        start_time: at,
        updated_at: at,
    }
    .into_active_model()
    .insert(db)
    .await
    .map_err(internal)?;
    match event_name {
        Some(e) => event::insert(db, &id, e, host, at, finished.then_some(Ok(()))).await,
        None => Ok(()),
    }
}

/// Ends the open events of the server's action under `request_id`:
/// `Err` carries what went wrong (the action's message becomes `Error`).
pub async fn finish(
    db: &impl ConnectionTrait,
    instance: &str,
    request_id: &str,
    outcome: Result<(), &str>,
) -> Result<(), Error> {
    let Some(mut a) = find(db, instance, request_id).await? else {
        return Ok(());
    };
    event::finish_open(db, &a.id, outcome).await?;
    a.updated_at = super::now();
    if outcome.is_err() {
        a.message = Some("Error".into());
    }
    a.into_active_model()
        .reset_all()
        .update(db)
        .await
        .map_err(internal)?;
    Ok(())
}

pub async fn find(
    db: &impl ConnectionTrait,
    instance: &str,
    request_id: &str,
) -> Result<Option<Model>, Error> {
    Entity::find()
        .filter(Column::InstanceId.eq(instance))
        .filter(Column::RequestId.eq(request_id))
        .one(db)
        .await
        .map_err(internal)
}

/// The server's actions, newest first.
pub async fn of_instance(db: &impl ConnectionTrait, instance: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::InstanceId.eq(instance))
        .order_by_desc(Column::StartTime)
        .order_by_desc(Column::Id)
        .all(db)
        .await
        .map_err(internal)
}
