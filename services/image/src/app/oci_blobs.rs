//! The OCI blob ledger behind image ingest, and collection of blobs no
//! image uses any more (after a delete, a failed upload, and now and then
//! for what a crash left behind).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_service::ServiceContext;

use crate::db::blob::{self, Held};
use crate::oci::{BlobLedger, blob_key};
use crate::store::Store;

/// How long a blob may sit in `deleting` before its collector is taken
/// for dead and someone else finishes the job.
const STALE: Duration = Duration::from_secs(60);
/// How long a claim waits for a blob being deleted to go.
const WAIT: Duration = Duration::from_secs(120);

/// One image's claims on blobs while its archive comes in.
pub struct Ledger {
    pub db: DatabaseConnection,
    pub store: Arc<dyn Store>,
    pub image_id: String,
}

#[async_trait]
impl BlobLedger for Ledger {
    async fn claim(&self, digest: &str) -> Result<bool, Error> {
        let started = tokio::time::Instant::now();
        loop {
            match blob::claim(&self.db, &self.image_id, digest).await? {
                Held::Present => return Ok(false),
                Held::Absent => return Ok(true),
                Held::Deleting { since } => {
                    if since < chrono::Utc::now() - STALE {
                        finish_delete(&self.db, self.store.as_ref(), digest).await?;
                    } else if started.elapsed() > WAIT {
                        return Err(Error::internal(std::io::Error::other(format!(
                            "blob {digest} has been in deletion for too long"
                        ))));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn written(&self, digest: &str, size: u64) -> Result<(), Error> {
        match blob::written(&self.db, digest, size).await? {
            true => Ok(()),
            false => Err(Error::internal(std::io::Error::other(format!(
                "blob {digest} was deleted while it was written"
            )))),
        }
    }

    async fn abandon(&self) {
        let done = async {
            blob::release(&self.db, &self.image_id).await?;
            collect(&self.db, self.store.as_ref()).await
        };
        if let Err(e) = done.await {
            tracing::warn!(image = %self.image_id, error = %virga_common::error::chain(&e), "releasing a failed upload's blobs failed");
        }
    }
}

async fn finish_delete(
    db: &DatabaseConnection,
    store: &dyn Store,
    digest: &str,
) -> Result<(), Error> {
    store
        .delete(&blob_key(digest))
        .await
        .map_err(Error::internal)?;
    blob::forget(db, digest).await
}

/// Deletes every blob no image uses; how many went.
pub async fn collect(db: &DatabaseConnection, store: &dyn Store) -> Result<usize, Error> {
    let mut gone = 0;
    for (digest, claims) in blob::unused(db).await? {
        if blob::start_delete(db, &digest, claims).await? {
            finish_delete(db, store, &digest).await?;
            gone += 1;
        }
    }
    for digest in blob::stale_deleting(db, chrono::Utc::now() - STALE).await? {
        finish_delete(db, store, &digest).await?;
        gone += 1;
    }
    if gone > 0 {
        tracing::info!(blobs = gone, "unused OCI blobs deleted");
    }
    Ok(gone)
}

/// How often leftovers (blobs of uploads a crash cut short, deletions a
/// crash interrupted) are looked for.
const SWEEP: Duration = Duration::from_secs(600);

/// Collects unused blobs now and then, until the service stops.
pub fn spawn_collector(ctx: ServiceContext) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = ctx.shutdown().cancelled() => return,
                _ = tokio::time::sleep(SWEEP) => {}
            }
            let swept = async {
                let store = super::image_data::store(&ctx)?;
                collect(ctx.db(), store.as_ref()).await
            };
            if let Err(e) = swept.await {
                tracing::warn!(error = %virga_common::error::chain(&e), "collecting unused OCI blobs failed");
            }
        }
    });
}
