//! Compute's entities and store functions: the only place with queries.
//! Store functions take `&impl ConnectionTrait` (so callers compose them
//! in a transaction) and return `virga_common::Error`.

use chrono::{DateTime, SubsecRound, Utc};
use virga_common::Error;
use virga_db::sea_orm::DbErr;

pub mod flavor;
pub mod flavor_access;
pub mod flavor_extra_spec;
pub mod key_pair;
pub mod quota;
pub mod server_group;

/// Now, cut to microseconds as PostgreSQL keeps it.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(crate) fn internal(e: DbErr) -> Error {
    Error::internal(e)
}

/// Whether a database error is a unique-key violation.
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(virga_db::sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
