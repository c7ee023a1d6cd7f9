//! Where image data lives, behind one trait, so the service does not care
//! whether it is the local filesystem (the embedded default) or S3-style
//! object storage. A write is two-phase: bytes go to a [`Pending`] that is
//! invisible until `commit`, so data that fails a check after the last
//! byte (size, hash, format) is dropped without ever having been readable.

mod local;
mod s3;

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

pub use local::LocalStore;
pub use s3::S3Store;

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Starts writing `key`, replacing what it holds once committed.
    async fn begin(&self, key: &str) -> Result<Box<dyn Pending>, StoreError>;
    /// Bytes `start..end` (end exclusive) of `key`, streamed.
    async fn read(&self, key: &str, start: u64, end: u64) -> Result<ByteStream, StoreError>;
    /// Removes `key`; a key that is not there is no error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// A write in progress.
#[async_trait]
pub trait Pending: Send {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError>;
    /// Makes the bytes durable and readable under the key, atomically.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    /// Drops what was written.
    async fn abort(self: Box<Self>);
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no data stored under {0}")]
    NotFound(String),
    #[error("image data store I/O failed")]
    Io(#[source] std::io::Error),
    #[error("the object store failed")]
    Backend(#[source] object_store::Error),
}

/// The store `image.store` configures: built once per configuration and
/// shared, since an S3 client holds connection pools.
pub fn configured(cfg: &virga_common::Config) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    build(&cfg.image.store, cfg)
}

/// The store with this id: the central one or an edge site's; None for
/// an id the configuration does not know.
pub fn by_id(
    cfg: &virga_common::Config,
    id: &str,
) -> Option<Result<std::sync::Arc<dyn Store>, StoreError>> {
    if id == cfg.image.store_id {
        return Some(configured(cfg));
    }
    let site = cfg.image.stores.get(id)?.as_store()?;
    Some(build(&site, cfg))
}

fn build(
    which: &virga_common::config::ImageStoreConfig,
    cfg: &virga_common::Config,
) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    use virga_common::config::ImageStoreConfig;
    static BUILT: OnceLock<Mutex<HashMap<String, Arc<dyn Store>>>> = OnceLock::new();
    match which {
        ImageStoreConfig::Local => Ok(Arc::new(LocalStore::new(cfg.data_dir.join("images")))),
        ImageStoreConfig::Dir(path) => Ok(Arc::new(LocalStore::new(path.clone()))),
        ImageStoreConfig::S3(s3) => {
            let key = format!(
                "{}|{}|{}|{}",
                s3.endpoint, s3.bucket, s3.prefix, s3.access_key_id
            );
            let mut built = BUILT
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(s) = built.get(&key) {
                return Ok(s.clone());
            }
            let store: Arc<dyn Store> = Arc::new(S3Store::new(s3)?);
            built.insert(key, store.clone());
            Ok(store)
        }
    }
}
