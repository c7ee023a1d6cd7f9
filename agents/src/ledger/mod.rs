//! The agent's ledger: the desired state of each of this node's instances
//! (the last command the centre sent for it, with its generation) and
//! what the agent last saw, in a local SQLite file.
//!
//! It is what lets a node keep working cut off from the centre and bring
//! its instances back after a reboot, so it is written durably (WAL,
//! synchronous commits) before a command is acknowledged, and never
//! recreated behind the operator's back: a file SQLite cannot read, or
//! one failing its integrity check, stops the agent with a message
//! saying how to recover ([`LedgerError::Corrupt`]).
//!
//! A deleted instance stays as a tombstone (with its generation) until
//! [`Ledger::purge_deleted`] drops it, so a late duplicate of an older
//! `ensure` cannot bring it back.

mod entity;
mod migration;
mod network;
mod record;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use virga_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, Statement, TransactionTrait,
};

pub use network::NetworkRecord;
pub use record::{Desired, RebootKind, Record};

use entity::{instance, meta};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(
        "the ledger {path} is damaged ({detail}). The agent will not start on it: it is this \
         node's only record of what should run here. Move the file aside (keep it for \
         inspection), restart the agent (it reports every guest it finds as unmanaged and \
         destroys none) and have the centre re-send its instances' state; or restore the \
         file from a backup"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("cannot open the ledger {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: Box<virga_db::DbError>,
    },
    #[error("the ledger failed")]
    Db(#[source] Box<virga_db::sea_orm::DbErr>),
    #[error("the ledger holds an unreadable record for {uuid}")]
    Record {
        uuid: String,
        #[source]
        source: serde_json::Error,
    },
}

impl From<virga_db::sea_orm::DbErr> for LedgerError {
    fn from(e: virga_db::sea_orm::DbErr) -> Self {
        LedgerError::Db(Box::new(e))
    }
}

/// What [`Ledger::apply`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The command was newer: this is the record now.
    Changed(Box<Record>),
    /// The ledger already holds this generation or a newer one.
    Stale { have: u64 },
}

/// The ledger. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    db: DatabaseConnection,
}

impl Ledger {
    /// Opens (creating on first start) the ledger at `path`.
    pub async fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let url = format!("sqlite://{}", path.display());
        let corrupt = |detail: String| LedgerError::Corrupt {
            path: path.to_owned(),
            detail,
        };
        // One connection: the agent's writes are few, and serialising them
        // makes read-then-write (the generation check) atomic.
        let db = virga_db::connect(&url, 1).await.map_err(|source| {
            let why = virga_common::error::chain(&source);
            // SQLITE_NOTADB and SQLITE_CORRUPT, as SQLite words them.
            if why.contains("file is not a database") || why.contains("malformed") {
                corrupt(why)
            } else {
                LedgerError::Open {
                    path: path.to_owned(),
                    source: Box::new(source),
                }
            }
        })?;
        let check = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "PRAGMA quick_check",
            ))
            .await
            .map_err(|e| corrupt(e.to_string()))?;
        let verdict: String = check
            .map(|row| row.try_get_by_index(0))
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?
            .unwrap_or_default();
        if verdict != "ok" {
            return Err(corrupt(verdict));
        }
        virga_db::migrate::<migration::Migrator>(&db, &url)
            .await
            .map_err(|e| corrupt(virga_common::error::chain(&e)))?;
        Ok(Ledger { db })
    }

    /// Closes the file cleanly (checkpointing its write-ahead log).
    pub async fn close(self) -> Result<(), LedgerError> {
        Ok(self.db.close().await?)
    }

    /// This node's uuid: made at the first start and kept for ever, so the
    /// scheduler knows the node again after any restart.
    pub async fn node_id(&self) -> Result<String, LedgerError> {
        if let Some(m) = meta::Entity::find_by_id("node_id").one(&self.db).await? {
            return Ok(m.value);
        }
        let id = uuid::Uuid::new_v4().to_string();
        meta::Model {
            key: "node_id".into(),
            value: id.clone(),
        }
        .into_active_model()
        .insert(&self.db)
        .await?;
        Ok(id)
    }

    /// Every instance, tombstones included.
    pub async fn all(&self) -> Result<Vec<Record>, LedgerError> {
        instance::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(Record::from_row)
            .collect()
    }

    pub async fn get(&self, uuid: &str) -> Result<Option<Record>, LedgerError> {
        instance::Entity::find_by_id(uuid.to_owned())
            .one(&self.db)
            .await?
            .map(Record::from_row)
            .transpose()
    }

    /// Applies a command of `generation` for `uuid`: `change` gets the
    /// current record (if any) and returns the new one, unless the ledger
    /// already has this generation or a newer one.
    pub async fn apply(
        &self,
        uuid: &str,
        generation: u64,
        change: impl FnOnce(Option<Record>) -> Record + Send,
    ) -> Result<Applied, LedgerError> {
        let txn = self.db.begin().await?;
        let current = instance::Entity::find_by_id(uuid.to_owned())
            .one(&txn)
            .await?
            .map(Record::from_row)
            .transpose()?;
        if let Some(c) = &current
            && c.generation >= generation
        {
            return Ok(Applied::Stale { have: c.generation });
        }
        let existed = current.is_some();
        let mut new = change(current);
        new.uuid = uuid.to_owned();
        new.generation = generation;
        new.updated_at = Utc::now();
        let row = new.to_row()?.into_active_model();
        if existed {
            instance::Entity::update(row.reset_all()).exec(&txn).await?;
        } else {
            instance::Entity::insert(row).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok(Applied::Changed(Box::new(new)))
    }

    /// Records what the agent saw or did (state, reason, reboot done,
    /// image built), leaving the generation alone. False when the
    /// instance is not in the ledger.
    pub async fn update(
        &self,
        uuid: &str,
        change: impl FnOnce(&mut Record) + Send,
    ) -> Result<Option<Record>, LedgerError> {
        let Some(mut rec) = self.get(uuid).await? else {
            return Ok(None);
        };
        change(&mut rec);
        rec.updated_at = Utc::now();
        instance::Entity::update(rec.to_row()?.into_active_model().reset_all())
            .exec(&self.db)
            .await?;
        Ok(Some(rec))
    }

    /// Drops tombstones last changed before `before`.
    pub async fn purge_deleted(&self, before: DateTime<Utc>) -> Result<u64, LedgerError> {
        let res = instance::Entity::delete_many()
            .filter(instance::Column::Power.eq("deleted"))
            .filter(instance::Column::UpdatedAt.lt(before))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }
}

#[cfg(test)]
mod tests;
