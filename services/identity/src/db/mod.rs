//! Identity's entities and store functions: the only place with queries.
//!
//! One module per resource, each with its sea-orm entity and its store
//! functions. Store functions take `&impl ConnectionTrait`, so a caller can
//! run several of them in one transaction, and return `virga_common::Error`
//! with Keystone's wording, so handlers pass them straight on.

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_db::sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    RuntimeErr, Select, SqlErr,
};

pub mod application_credential;
pub mod assignment;
pub mod audit;
pub mod catalog;
pub mod domain;
pub mod federation;
pub mod group;
pub mod project;
pub mod region;
pub mod revocation;
pub mod role;
pub mod signing_key;
pub mod user;

/// Sets an active-model field only when a partial update names it.
pub(crate) fn set_if<T>(field: &mut virga_db::sea_orm::ActiveValue<T>, value: Option<T>)
where
    T: Into<virga_db::sea_orm::Value>,
{
    if let Some(v) = value {
        *field = virga_db::sea_orm::ActiveValue::Set(v);
    }
}

/// The id of the domain every fresh database has (created by the first migration).
pub const DEFAULT_DOMAIN_ID: &str = "default";

/// A new Keystone-style id: a uuid4 as 32 lowercase hex characters.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub use virga_db::now;

/// Maps a failed insert or update of a `kind`: a unique-constraint violation
/// is Keystone's duplicate-entry conflict, a foreign-key violation a bad
/// reference in the request. sea-orm classifies the driver codes for us
/// (SQLite 2067/1555 and 787, PostgreSQL 23505 and 23503).
pub(crate) fn store_err(kind: &'static str) -> impl Fn(DbErr) -> Error {
    move |e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(format!(
            "Conflict occurred attempting to store {kind} - Duplicate entry."
        )),
        _ if is_fk_violation(&e) => Error::BadRequest(format!(
            "Could not store {kind}: it refers to a resource that does not exist."
        )),
        _ => Error::internal(e),
    }
}

/// Maps a failed delete of a `kind`: a foreign-key violation means other
/// rows still refer to it, which is a conflict with the resource's state.
pub(crate) fn delete_err(kind: &'static str) -> impl Fn(DbErr) -> Error {
    move |e| {
        if is_fk_violation(&e) {
            Error::Conflict(format!(
                "Cannot delete {kind}: other resources still refer to it."
            ))
        } else {
            Error::internal(e)
        }
    }
}

/// sea-orm knows SQLite's 787, but an `ON DELETE RESTRICT` key fails on
/// SQLite with the extended code 1811 (SQLITE_CONSTRAINT_TRIGGER) instead,
/// which it does not classify; both mean a foreign key blocked the change.
fn is_fk_violation(e: &DbErr) -> bool {
    if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) {
        return true;
    }
    let code = match e {
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => s
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    };
    code.as_deref() == Some("1811")
}

/// Any other database failure: unexpected, logged, shown generically.
pub(crate) fn internal(e: DbErr) -> Error {
    Error::internal(e)
}

/// One page of `query` ordered by `id`: checks that the marker exists (as
/// Keystone does, "Marker <m> could not be found."), then fetches `limit + 1`
/// rows after it so [`Page::from_rows`] knows whether another page follows.
pub(crate) async fn paginate<E, C>(
    db: &C,
    query: Select<E>,
    id: E::Column,
    req: &PageRequest,
    id_of: fn(&E::Model) -> String,
) -> Result<Page<E::Model>, Error>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut query = query;
    if let Some(marker) = &req.marker {
        let known = E::find()
            .filter(id.eq(marker.as_str()))
            .one(db)
            .await
            .map_err(internal)?
            .is_some();
        if !known {
            return Err(Error::not_found("Marker", marker));
        }
        query = query.filter(id.gt(marker.as_str()));
    }
    let rows = query
        .order_by_asc(id)
        .limit(req.limit.saturating_add(1))
        .all(db)
        .await
        .map_err(internal)?;
    Ok(Page::from_rows(rows, req, id_of))
}

/// Fetches one row by primary key or says `kind <id> could not be found.`
pub(crate) async fn must_find<E, C>(db: &C, kind: &'static str, id: &str) -> Result<E::Model, Error>
where
    E: EntityTrait,
    E::PrimaryKey: virga_db::sea_orm::PrimaryKeyTrait<ValueType = String>,
    C: ConnectionTrait,
{
    E::find_by_id(id.to_string())
        .one(db)
        .await
        .map_err(internal)?
        .ok_or_else(|| Error::not_found(kind, id))
}
