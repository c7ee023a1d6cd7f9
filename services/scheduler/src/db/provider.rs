//! Resource providers: `resource_provider`. Each has a generation that
//! every change to its inventories or aggregates bumps, compare-and-set,
//! so of two writers who saw the same generation one wins and the other
//! gets a conflict to retry.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::{Expr, ExprTrait};
use virga_db::sea_orm::{IntoActiveModel, QueryOrder, SqlErr};

use super::{internal, now};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource_provider")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub uuid: String,
    pub name: String,
    pub generation: i64,
    pub parent_uuid: Option<String>,
    pub root_uuid: String,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

fn conflict(e: DbErr, name: &str, uuid: &str) -> Error {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(m)) if m.contains("name") => Error::CodedConflict {
            code: "placement.duplicate_name",
            message: format!("Conflicting resource provider name: {name} already exists."),
        },
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(format!(
            "Conflicting resource provider uuid: {uuid} already exists."
        )),
        _ => internal(e),
    }
}

pub async fn create(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    let (name, uuid) = (m.name.clone(), m.uuid.clone());
    m.into_active_model()
        .insert(db)
        .await
        .map_err(|e| conflict(e, &name, &uuid))
}

pub async fn find(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(uuid.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// What a provider list is filtered by.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub name: Option<String>,
    pub uuid: Option<String>,
    /// Each list: providers in at least one of these aggregates.
    pub member_of: Vec<Vec<String>>,
    /// Providers in none of these aggregates.
    pub not_member_of: Vec<String>,
    /// Providers in the tree with this root.
    pub root: Option<String>,
}

pub async fn list(db: &impl ConnectionTrait, f: &Filter) -> Result<Vec<Model>, Error> {
    let mut q = Entity::find().order_by_asc(Column::Name);
    if let Some(n) = &f.name {
        q = q.filter(Column::Name.eq(n.as_str()));
    }
    if let Some(u) = &f.uuid {
        q = q.filter(Column::Uuid.eq(u.as_str()));
    }
    if let Some(r) = &f.root {
        q = q.filter(Column::RootUuid.eq(r.as_str()));
    }
    for aggs in &f.member_of {
        let members = super::aggregate::members(db, aggs).await?;
        q = q.filter(Column::Uuid.is_in(members));
    }
    if !f.not_member_of.is_empty() {
        let members = super::aggregate::members(db, &f.not_member_of).await?;
        q = q.filter(Column::Uuid.is_not_in(members));
    }
    q.all(db).await.map_err(internal)
}

/// Renames a provider.
pub async fn rename(db: &impl ConnectionTrait, uuid: &str, name: &str) -> Result<(), Error> {
    Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Uuid.eq(uuid))
        .exec(db)
        .await
        .map_err(|e| conflict(e, name, uuid))?;
    Ok(())
}

/// Moves `uuid` from under `old` to under `new` (`None`: no parent), and
/// its subtree (itself included) into the tree of `root`. Only while its
/// parent is still `old` (a concurrent move loses, false).
pub async fn move_subtree(
    db: &impl ConnectionTrait,
    uuid: &str,
    old: Option<&str>,
    new: Option<&str>,
    root: &str,
    subtree: &[String],
) -> Result<bool, Error> {
    let still = match old {
        Some(p) => Column::ParentUuid.eq(p),
        None => Column::ParentUuid.is_null(),
    };
    let r = Entity::update_many()
        .col_expr(Column::ParentUuid, Expr::value(new.map(str::to_owned)))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Uuid.eq(uuid))
        .filter(still)
        .exec(db)
        .await
        .map_err(internal)?;
    if r.rows_affected != 1 {
        return Ok(false);
    }
    Entity::update_many()
        .col_expr(Column::RootUuid, Expr::value(root))
        .filter(Column::Uuid.is_in(subtree.iter().map(String::as_str)))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(true)
}

/// Bumps the generation if it is still `seen`; false when another writer
/// got there first.
pub async fn bump(db: &impl ConnectionTrait, uuid: &str, seen: i64) -> Result<bool, Error> {
    let r = Entity::update_many()
        .col_expr(Column::Generation, Expr::col(Column::Generation).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Uuid.eq(uuid))
        .filter(Column::Generation.eq(seen))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// Bumps each provider's generation if it is still the one seen, in one
/// statement; false (and the caller rolls back) unless all were.
pub async fn bump_many(db: &impl ConnectionTrait, seen: &[(String, i64)]) -> Result<bool, Error> {
    use virga_db::sea_orm::Condition;
    let mut still = Condition::any();
    for (uuid, g) in seen {
        still = still.add(
            Column::Uuid
                .eq(uuid.as_str())
                .and(Column::Generation.eq(*g)),
        );
    }
    let r = Entity::update_many()
        .col_expr(Column::Generation, Expr::col(Column::Generation).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(still)
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == seen.len() as u64)
}

pub async fn delete(db: &impl ConnectionTrait, uuid: &str) -> Result<(), Error> {
    Entity::delete_by_id(uuid.to_owned())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Whether any provider has this one as its parent.
pub async fn has_children(db: &impl ConnectionTrait, uuid: &str) -> Result<bool, Error> {
    let n = Entity::find()
        .filter(Column::ParentUuid.eq(uuid))
        .count(db)
        .await
        .map_err(internal)?;
    Ok(n > 0)
}
