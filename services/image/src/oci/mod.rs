//! OCI image archives (container_format `oci`, and `docker` for what
//! `docker save` writes since Docker 25, an OCI layout too) stored as
//! blobs by digest plus a recipe.
//!
//! Why: container images of one family share most layers. Stored whole,
//! each image would keep its own copy of the base layers; split into
//! content-addressed blobs, a layer is stored once however many images
//! carry it, and a node that holds the blobs of one image already holds
//! most of the next. The archive a caller uploaded is still what it
//! downloads, byte for byte (its checksum holds): the [`Recipe`] replays
//! the tar headers around the blobs.

mod layout;
mod recipe;
mod split;
mod tar;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest, Sha256};

pub use layout::Summary;
pub use recipe::Recipe;

use crate::app::digests::{Digests, Hash};
use crate::store::{Pending, Store, StoreError};
use split::{Event, Splitter};

/// The container formats whose data is an OCI image layout archive.
pub const CONTAINER_FORMATS: [&str; 2] = ["oci", "docker"];

pub fn is_oci(container_format: &str) -> bool {
    CONTAINER_FORMATS.contains(&container_format)
}

/// Where the store keeps a blob.
pub fn blob_key(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("The OCI archive is malformed: {0}.")]
    Archive(String),
    #[error("The OCI image layout is not valid: {0}.")]
    Layout(String),
    #[error(
        "Blob {digest} in the archive does not match its digest (its content hashes to sha256:{actual})."
    )]
    Digest { digest: String, actual: String },
    #[error("Storing an OCI blob failed.")]
    Store(#[from] StoreError),
    #[error("Recording an OCI blob failed.")]
    Ledger(#[source] virga_common::Error),
}

impl OciError {
    pub fn is_client(&self) -> bool {
        !matches!(self, OciError::Store(_) | OciError::Ledger(_))
    }
}

/// Which blobs the store holds and which images use them.
#[async_trait]
pub trait BlobLedger: Send + Sync + 'static {
    /// Records that the image being taken in uses `digest`; true when the
    /// store lacks the blob and the caller must write it.
    async fn claim(&self, digest: &str) -> Result<bool, virga_common::Error>;
    /// A blob the caller wrote is now in the store.
    async fn written(&self, digest: &str, size: u64) -> Result<(), virga_common::Error>;
    /// Taking the image in failed: its claims go, and blobs nothing else
    /// uses with them.
    async fn abandon(&self);
}

struct BlobWrite {
    digest: String,
    size: u64,
    pending: Option<Box<dyn Pending>>,
    hash: Digests,
}

/// Takes an archive in chunk by chunk, blobs into the store as they pass.
pub struct OciWriter<'a> {
    splitter: Splitter,
    store: &'a dyn Store,
    ledger: Arc<dyn BlobLedger>,
    current: Option<BlobWrite>,
}

impl<'a> OciWriter<'a> {
    pub fn new(store: &'a dyn Store, ledger: Arc<dyn BlobLedger>) -> Self {
        OciWriter {
            splitter: Splitter::default(),
            store,
            ledger,
            current: None,
        }
    }

    pub async fn feed(&mut self, chunk: &Bytes) -> Result<(), OciError> {
        for event in self.splitter.feed(chunk)? {
            match event {
                Event::Start { digest, size } => {
                    let write = self.ledger.claim(&digest).await.map_err(OciError::Ledger)?;
                    let pending = match write {
                        true => Some(self.store.begin(&blob_key(&digest)).await?),
                        false => None,
                    };
                    let hash = Digests::start(vec![Box::new(Hash(Sha256::new()))]);
                    self.current = Some(BlobWrite {
                        digest,
                        size,
                        pending,
                        hash,
                    });
                }
                Event::Data(b) => {
                    if let Some(w) = &mut self.current {
                        w.hash.feed(&b).await;
                        if let Some(p) = &mut w.pending {
                            p.write(b).await?;
                        }
                    }
                }
                Event::End => {
                    if let Some(w) = self.current.take() {
                        self.end_blob(w).await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn end_blob(&mut self, w: BlobWrite) -> Result<(), OciError> {
        let actual = crate::app::ingest::hex(&w.hash.finish().await.concat());
        if w.digest.strip_prefix("sha256:") != Some(actual.as_str()) {
            if let Some(p) = w.pending {
                p.abort().await;
            }
            return Err(OciError::Digest {
                digest: w.digest,
                actual,
            });
        }
        if let Some(p) = w.pending {
            p.commit().await?;
            self.ledger
                .written(&w.digest, w.size)
                .await
                .map_err(OciError::Ledger)?;
        }
        Ok(())
    }

    /// Checks the whole layout once the archive has ended; the recipe to
    /// store under the image's key.
    pub async fn finish(&mut self) -> Result<(Vec<u8>, Summary), OciError> {
        let split = std::mem::take(&mut self.splitter).finish()?;
        let store = self.store;
        let summary = layout::check(&split.small, &split.blobs, |d| read_small(store, d)).await?;
        Ok((split.recipe.encode(), summary))
    }

    /// Drops what is half-written and the image's claims.
    pub async fn abort(self) {
        if let Some(p) = self.current.and_then(|w| w.pending) {
            p.abort().await;
        }
        self.ledger.abandon().await;
    }
}

async fn read_small(store: &dyn Store, digest: String) -> Result<Vec<u8>, OciError> {
    let mut s = store.read(&blob_key(&digest), 0, u64::MAX).await?;
    let mut out = Vec::new();
    while let Some(b) = s.next().await {
        out.extend_from_slice(&b.map_err(|e| OciError::Store(StoreError::Io(e)))?);
    }
    Ok(out)
}

/// The recipe an OCI image's data key holds, if it holds one.
pub async fn recipe(store: &dyn Store, key: &str) -> Result<Option<Recipe>, StoreError> {
    let mut s = store.read(key, 0, u64::MAX).await?;
    let mut out = Vec::new();
    while let Some(b) = s.next().await {
        out.extend_from_slice(&b.map_err(StoreError::Io)?);
        // An archive stored whole is not read to its end to find that out.
        if out.len() >= 64 && !Recipe::has_magic(&out) {
            return Ok(None);
        }
    }
    Ok(Recipe::decode(&out))
}
