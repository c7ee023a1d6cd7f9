//! Compute's entities and store functions: the only place with queries.
//! Store functions take `&impl ConnectionTrait` (so callers compose them
//! in a transaction) and return `virga_common::Error`.

use virga_common::Error;
use virga_db::sea_orm::DbErr;

pub mod flavor;
pub mod flavor_access;
pub mod flavor_extra_spec;
pub mod instance;
pub mod instance_action;
pub mod instance_action_event;
pub mod instance_saga;
pub mod key_pair;
pub mod migration;
pub mod quota;
pub mod server_group;

pub use virga_db::now;

pub(crate) fn internal(e: DbErr) -> Error {
    Error::internal(e)
}

pub(crate) use virga_db::is_unique_violation;
