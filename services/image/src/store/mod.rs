//! Where image data lives, behind one trait: the local filesystem now (the
//! embedded default); S3-compatible object storage and edge-site stores
//! come with the image issue's later steps.

mod local;

use std::pin::Pin;

use futures::Stream;

pub use local::LocalStore;

/// What an upload wrote, measured while it streamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub size: u64,
    /// md5, hex: Glance's `checksum`.
    pub md5: String,
    /// sha512, hex: Glance's `os_hash_value` (algorithm `sha512`).
    pub sha512: String,
}

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the upload ended after {got} bytes, {expected} were announced")]
    SizeMismatch { expected: u64, got: u64 },
    #[error("the upload exceeds {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("reading the upload failed")]
    Body(#[source] std::io::Error),
    #[error("image data store I/O failed")]
    Io(#[source] std::io::Error),
}
