//! Scheduler's entities and store functions: the only place with queries.
//! Store functions take `&impl ConnectionTrait` (so callers compose them
//! in a transaction) and return `virga_common::Error`.

use chrono::{DateTime, SubsecRound, Utc};
use virga_common::Error;
use virga_db::sea_orm::DbErr;

pub mod aggregate;
pub mod allocation;
pub mod candidate;
pub mod consumer;
pub mod custom_trait;
pub mod inventory;
pub mod node;
pub mod provider;
pub mod provider_trait;
pub mod reservation;
pub mod resource_class;
pub mod site;

/// Now, cut to microseconds as PostgreSQL keeps it.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(crate) fn internal(e: DbErr) -> Error {
    Error::internal(e)
}
