//! Network's entities and store functions: the only place with queries.
//! Store functions take `&impl ConnectionTrait` (so callers compose them
//! in a transaction) and return `virga_common::Error`.

use virga_common::Error;
use virga_db::sea_orm::sea_query::{Expr, ExprTrait};
use virga_db::sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

pub mod floating_ip;
pub mod ip_allocation;
pub mod listing;
pub mod network;
pub mod network_node;
pub mod port;
pub mod quota;
pub mod router;
pub mod security_group;
pub mod security_group_rule;
pub mod subnet;

pub use virga_db::now;

pub(crate) fn internal(e: DbErr) -> Error {
    Error::internal(e)
}

pub(crate) use virga_db::is_unique_violation;

/// Whether a database error is a foreign-key violation (a row another
/// transaction made refers to the one being deleted, or the parent of a
/// new row is gone).
pub(crate) fn is_fk_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(virga_db::sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// Bumps a row's revision and `updated_at`. Being a write, it also makes
/// the rest of the transaction the row's only writer: on SQLite it takes
/// the write lock before anything is read, on PostgreSQL it locks the
/// row. False when there is no such row.
pub(crate) async fn touch<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: (E::Column, &str),
    revision: E::Column,
    updated_at: E::Column,
) -> Result<bool, Error> {
    let r = E::update_many()
        .col_expr(revision, Expr::col(revision).add(1))
        .col_expr(updated_at, Expr::value(now()))
        .filter(id.0.eq(id.1))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}
