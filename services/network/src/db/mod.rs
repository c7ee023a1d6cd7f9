//! Network's entities and store functions: the only place with queries.
//! Store functions take `&impl ConnectionTrait` (so callers compose them
//! in a transaction) and return `virga_common::Error`.

use chrono::{DateTime, SubsecRound, Utc};
use virga_common::Error;
use virga_db::sea_orm::DbErr;

pub mod floating_ip;
pub mod ip_allocation;
pub mod listing;
pub mod network;
pub mod port;
pub mod quota;
pub mod router;
pub mod security_group;
pub mod security_group_rule;
pub mod subnet;

/// Now, cut to microseconds as PostgreSQL keeps it.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(crate) fn internal(e: DbErr) -> Error {
    Error::internal(e)
}

/// Whether a database error is a unique-key violation (a taken segment,
/// MAC or address).
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(virga_db::sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Whether a database error is a foreign-key violation (a row another
/// transaction made refers to the one being deleted, or the parent of a
/// new row is gone).
pub(crate) fn is_fk_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(virga_db::sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
    )
}
