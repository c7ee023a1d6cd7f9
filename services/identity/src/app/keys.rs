//! Identity's token signing keys: the [`KeyRing`] persisted in the
//! `signing_key` table, created on first start, rotated on schedule and
//! pruned once no live token can carry a retired key.
//!
//! Several identity instances may share one database: each reloads the
//! stored ring before acting, and a rotation is one conditional transaction
//! (see `db::signing_key::rotate`), so exactly one instance rotates and the
//! others pick up its result. Private keys sit in the database as PKCS#8 PEM;
//! whoever reads that database can sign tokens.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use virga_auth::{Jwks, KeyRing, RetiredKey, SigningKey};
use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;

use crate::db::signing_key::{self, KeyState};

pub struct KeyStore {
    ring: RwLock<Arc<KeyRing>>,
}

/// What [`KeyStore::maintain`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Maintenance {
    pub rotated: bool,
    pub pruned: usize,
    /// The key set differs from before (ours or another instance's doing).
    pub changed: bool,
}

impl KeyStore {
    /// Loads the stored ring, creating one on first start.
    pub async fn open(db: &DatabaseConnection) -> Result<Self, Error> {
        let ring = match load(db).await? {
            Some(ring) => ring,
            None => create(db).await?,
        };
        Ok(KeyStore {
            ring: RwLock::new(Arc::new(ring)),
        })
    }

    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn jwks(&self) -> Jwks {
        Jwks::from_key_ring(&self.ring())
    }

    /// Brings the ring up to date at `now`: reloads it, rotates when the
    /// next key has waited `rotation`, and drops retired keys whose tokens
    /// (`lifetime` at most) have all expired.
    pub async fn maintain(
        &self,
        db: &DatabaseConnection,
        rotation: Duration,
        lifetime: Duration,
        now: DateTime<Utc>,
    ) -> Result<Maintenance, Error> {
        let before = kids(&self.ring());
        let mut done = Maintenance::default();
        let rows = signing_key::list(db).await?;
        // The next key was made at the last rotation (or at creation).
        let last_rotation = rows
            .iter()
            .find(|r| r.state == KeyState::Next)
            .map(|r| r.created_at);
        if last_rotation.is_some_and(|at| at + rotation <= now) {
            done.rotated = rotate(db, &self.ring()).await?;
        }
        let cutoff = now - lifetime - Duration::from_secs(virga_auth::LEEWAY_SECS);
        done.pruned = usize::try_from(signing_key::prune_retired(db, cutoff).await?).unwrap_or(0);
        if let Some(ring) = load(db).await? {
            done.changed = kids(&ring) != before;
            *self.ring.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(ring);
        }
        Ok(done)
    }
}

fn kids(ring: &KeyRing) -> Vec<String> {
    ring.verification_keys()
        .map(|k| k.kid().to_string())
        .collect()
}

async fn load(db: &DatabaseConnection) -> Result<Option<KeyRing>, Error> {
    let rows = signing_key::list(db).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut current = None;
    let mut next = None;
    let mut retired = Vec::new();
    for row in rows {
        let key = SigningKey::from_pkcs8_pem(&row.pem).map_err(Error::internal)?;
        match row.state {
            KeyState::Current => current = Some(key),
            KeyState::Next => next = Some(key),
            KeyState::Retired => retired.push(RetiredKey {
                key,
                retired_at: row
                    .retired_at
                    .map_or(0, |t| u64::try_from(t.timestamp()).unwrap_or(0)),
            }),
        }
    }
    match (current, next) {
        (Some(current), Some(next)) => Ok(Some(KeyRing::from_parts(current, next, retired))),
        _ => Err(Error::internal(
            "the signing_key table lacks a current or a next key",
        )),
    }
}

async fn create(db: &DatabaseConnection) -> Result<KeyRing, Error> {
    let ring = KeyRing::generate().map_err(Error::internal)?;
    let txn = virga_db::begin_write(db).await.map_err(Error::internal)?;
    let stored = async {
        for (key, state) in [
            (ring.current(), KeyState::Current),
            (ring.next(), KeyState::Next),
        ] {
            let pem = key.to_pkcs8_pem().map_err(Error::internal)?;
            signing_key::insert(&txn, key.kid(), &pem, state).await?;
        }
        Ok::<_, Error>(())
    }
    .await;
    match stored {
        Ok(()) => {
            txn.commit().await.map_err(Error::internal)?;
            tracing::info!(kid = ring.current().kid(), "created the token signing keys");
            Ok(ring)
        }
        // Another instance created its ring at the same moment: use that one.
        Err(Error::Conflict(_)) => {
            drop(txn);
            load(db)
                .await?
                .ok_or_else(|| Error::internal("signing keys vanished while being created"))
        }
        Err(e) => Err(e),
    }
}

async fn rotate(db: &DatabaseConnection, ring: &KeyRing) -> Result<bool, Error> {
    let fresh = SigningKey::generate().map_err(Error::internal)?;
    let pem = fresh.to_pkcs8_pem().map_err(Error::internal)?;
    let txn = virga_db::begin_write(db).await.map_err(Error::internal)?;
    let rotated = signing_key::rotate(
        &txn,
        ring.current().kid(),
        ring.next().kid(),
        fresh.kid(),
        &pem,
    )
    .await;
    match rotated {
        Ok(true) => {
            txn.commit().await.map_err(Error::internal)?;
            tracing::info!(kid = ring.next().kid(), "rotated the token signing key");
            Ok(true)
        }
        // Someone else rotated; dropping the transaction undoes our half.
        Ok(false) | Err(Error::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}
