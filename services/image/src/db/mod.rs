//! Image's entities and store functions: the only place with queries.
//! Store functions take `&impl ConnectionTrait` (so callers compose them
//! in a transaction) and return `virga_common::Error`.

use virga_common::Error;
use virga_db::sea_orm::{DbErr, SqlErr};

pub mod blob;
pub mod image;
pub mod listing;
pub mod location;
pub mod member;
pub mod task;

pub use virga_db::now;

pub(crate) fn internal(e: DbErr) -> Error {
    Error::internal(e)
}

/// A unique violation is a conflict (a taken id); anything else is internal.
pub(crate) fn store_err(kind: &'static str) -> impl Fn(DbErr) -> Error {
    move |e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::Conflict(format!("An {kind} with this identifier already exists."))
        }
        _ => Error::internal(e),
    }
}
