//! Where image data lives, behind one trait, so the service does not care
//! whether it is the local filesystem (the embedded default) or S3-style
//! object storage. A write is two-phase: bytes go to a [`Pending`] that is
//! invisible until `commit`, so data that fails a check after the last
//! byte (size, hash, format) is dropped without ever having been readable.

mod local;

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

pub use local::LocalStore;

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
}
