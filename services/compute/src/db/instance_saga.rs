//! `instance_saga`: the operation a server is under (create, delete) and
//! the step it reached, so a restarted compute service resumes or unwinds
//! it. One row per server: a delete takes over from a create.

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{Condition, IntoActiveModel, PaginatorTrait, QueryOrder};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance_saga")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub instance_id: String,
    /// `create` or `delete`.
    pub kind: String,
    pub step: String,
    /// JSON: what earlier steps learned that later ones and undos need.
    pub data: String,
    /// When the current step gives up (a node that never answers).
    pub deadline: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn find(db: &impl ConnectionTrait, instance: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(instance.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// Every saga in progress, oldest first (resumed at start).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>, Error> {
    Entity::find()
        .order_by_asc(Column::UpdatedAt)
        .all(db)
        .await
        .map_err(internal)
}

/// Starts `m`, replacing whatever operation the server was under.
pub async fn put(db: &impl ConnectionTrait, m: Model) -> Result<(), Error> {
    Entity::delete_by_id(m.instance_id.clone())
        .exec(db)
        .await
        .map_err(internal)?;
    m.into_active_model().insert(db).await.map_err(internal)?;
    Ok(())
}

/// The saga of `from`'s server while still at `from`'s `(kind, step)`.
fn at(from: &Model) -> Condition {
    Condition::all()
        .add(Column::InstanceId.eq(from.instance_id.as_str()))
        .add(Column::Kind.eq(from.kind.as_str()))
        .add(Column::Step.eq(from.step.as_str()))
}

/// Whether the saga is still at `from`'s `(kind, step)`.
pub async fn holds(db: &impl ConnectionTrait, from: &Model) -> Result<bool, Error> {
    let n = Entity::find()
        .filter(at(from))
        .count(db)
        .await
        .map_err(internal)?;
    Ok(n == 1)
}

/// Moves the saga from `(kind, step)` to `next`; false when it is no
/// longer there (another operation took over, or it already moved).
pub async fn advance(db: &impl ConnectionTrait, from: &Model, next: &Model) -> Result<bool, Error> {
    let r = Entity::update_many()
        .set(next.clone().into_active_model().reset_all())
        .filter(at(from))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// Ends the saga if it is still `(kind, step)`; false when not.
pub async fn finish(db: &impl ConnectionTrait, from: &Model) -> Result<bool, Error> {
    let r = Entity::delete_many()
        .filter(at(from))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}
