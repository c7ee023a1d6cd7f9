//! Scheduler's entities and store functions: the only place with queries.
//! Store functions take `&impl ConnectionTrait` (so callers compose them
//! in a transaction) and return `virga_common::Error`.

use virga_common::Error;
use virga_db::sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait};

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

pub use virga_db::now;

pub(crate) fn internal(e: DbErr) -> Error {
    Error::internal(e)
}

/// Inserts rows of one table in one statement (nothing for none): a
/// claim batch's consumers, allocations and reservations.
pub async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), Error>
where
    A: ActiveModelTrait + Send,
{
    if !rows.is_empty() {
        A::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .map_err(internal)?;
    }
    Ok(())
}
