//! Consumers: `consumer`, one row per holder of allocations, with its
//! project, user and generation. A consumer exists exactly while it holds
//! allocations.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::{Expr, ExprTrait};
use virga_db::sea_orm::{
    IntoActiveModel, PaginatorTrait, QueryOrder, QuerySelect, QueryTrait, SqlErr,
};

use super::{internal, now};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consumer")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub uuid: String,
    pub project_id: String,
    pub user_id: String,
    pub generation: i64,
    /// 1.38's type (`INSTANCE`, `MIGRATION`); null when never given.
    pub consumer_type: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn find(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(uuid.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// Which of these consumers exist.
pub async fn existing(db: &impl ConnectionTrait, uuids: &[&str]) -> Result<Vec<String>, Error> {
    let rows = Entity::find()
        .filter(Column::Uuid.is_in(uuids.iter().copied()))
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|r| r.uuid).collect())
}

/// A new consumer's row, as `insert` writes it.
pub fn new_row(uuid: &str, project: &str, user: &str, kind: Option<&str>) -> Model {
    let at = now();
    Model {
        uuid: uuid.to_owned(),
        project_id: project.to_owned(),
        user_id: user.to_owned(),
        // Placement creates a consumer at 0 and bumps it as its first
        // allocations are written: clients see 1 after the first claim.
        generation: 1,
        consumer_type: kind.map(str::to_owned),
        created_at: at,
        updated_at: at,
    }
}

/// Inserts a new consumer (`new_row`); false when it appeared meanwhile.
pub async fn insert(
    db: &impl ConnectionTrait,
    uuid: &str,
    project: &str,
    user: &str,
    kind: Option<&str>,
) -> Result<bool, Error> {
    let row = new_row(uuid, project, user, kind);
    match row.into_active_model().insert(db).await {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(false),
        Err(e) => Err(internal(e)),
    }
}

/// Sets project, user and (when given) type, and bumps the generation if
/// it is still `seen`.
pub async fn bump(
    db: &impl ConnectionTrait,
    uuid: &str,
    seen: i64,
    project: &str,
    user: &str,
    kind: Option<&str>,
) -> Result<bool, Error> {
    let mut q = Entity::update_many()
        .col_expr(Column::Generation, Expr::col(Column::Generation).add(1))
        .col_expr(Column::ProjectId, Expr::value(project))
        .col_expr(Column::UserId, Expr::value(user));
    if let Some(k) = kind {
        q = q.col_expr(Column::ConsumerType, Expr::value(k));
    }
    let r = q
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Uuid.eq(uuid))
        .filter(Column::Generation.eq(seen))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// Deletes the consumer if its generation is still `seen`.
pub async fn delete(db: &impl ConnectionTrait, uuid: &str, seen: i64) -> Result<bool, Error> {
    let r = Entity::delete_many()
        .filter(Column::Uuid.eq(uuid))
        .filter(Column::Generation.eq(seen))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// Which consumers `usages` counts by type (1.38).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Any,
    /// Consumers never given a type.
    Unknown,
    Named(String),
}

/// What a project's (and optionally one user's) consumers of a kind hold,
/// by class, and how many consumers those are.
pub async fn usages(
    db: &impl ConnectionTrait,
    project: &str,
    user: Option<&str>,
    kind: &Kind,
) -> Result<(BTreeMap<String, i64>, u64), Error> {
    let of_kind = match kind {
        Kind::Any => None,
        Kind::Unknown => Some(Column::ConsumerType.is_null()),
        Kind::Named(k) => Some(Column::ConsumerType.eq(k.as_str())),
    };
    let counted = Entity::find()
        .filter(Column::ProjectId.eq(project))
        .apply_if(user, |q, u| q.filter(Column::UserId.eq(u)))
        .apply_if(of_kind.clone(), |q, k| q.filter(k))
        .count(db)
        .await
        .map_err(internal)?;
    use super::allocation;
    let q = allocation::Entity::find()
        .select_only()
        .column(allocation::Column::ResourceClass)
        // PostgreSQL's SUM of a bigint is a numeric.
        .column_as(
            Expr::col(allocation::Column::Used).sum().cast_as("bigint"),
            "used",
        )
        .filter(
            allocation::Column::ConsumerId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(Column::Uuid)
                    .from(Entity)
                    .and_where(Column::ProjectId.eq(project))
                    .and_where_option(user.map(|u| Column::UserId.eq(u)))
                    .and_where_option(of_kind)
                    .to_owned(),
            ),
        )
        .group_by(allocation::Column::ResourceClass)
        .order_by_asc(allocation::Column::ResourceClass);
    let rows: Vec<(String, Option<i64>)> = q.into_tuple().all(db).await.map_err(internal)?;
    let used = rows.into_iter().map(|(c, n)| (c, n.unwrap_or(0))).collect();
    Ok((used, counted))
}

/// The types the consumers of a project (and optionally one user) have.
pub async fn kinds(
    db: &impl ConnectionTrait,
    project: &str,
    user: Option<&str>,
) -> Result<Vec<Option<String>>, Error> {
    Entity::find()
        .select_only()
        .column(Column::ConsumerType)
        .distinct()
        .filter(Column::ProjectId.eq(project))
        .apply_if(user, |q, u| q.filter(Column::UserId.eq(u)))
        .into_tuple()
        .all(db)
        .await
        .map_err(internal)
}
