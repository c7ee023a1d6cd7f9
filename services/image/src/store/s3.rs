//! Image data in S3-compatible object storage (the scale-out backend: any
//! number of image services share it), through the `object_store` crate.
//! A write is a multipart upload that only becomes the object when it is
//! completed, so an aborted or failed write never replaces what was there.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, WriteMultipart};
use virga_common::config::S3StoreConfig;

use super::{ByteStream, Pending, Store, StoreError};

/// Parts uploading at once per write: bounds the memory one upload holds
/// (parts are 5 MiB) while keeping the link busy.
const PARTS_IN_FLIGHT: usize = 4;

#[derive(Debug, Clone)]
pub struct S3Store {
    inner: Arc<dyn ObjectStore>,
    prefix: String,
}

impl S3Store {
    pub fn new(cfg: &S3StoreConfig) -> Result<Self, StoreError> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&cfg.endpoint)
            .with_bucket_name(&cfg.bucket)
            .with_region(&cfg.region)
            .with_access_key_id(&cfg.access_key_id)
            .with_secret_access_key(&cfg.secret_access_key)
            .with_allow_http(cfg.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(StoreError::Backend)?;
        Ok(S3Store {
            inner: Arc::new(store),
            prefix: cfg.prefix.trim_matches('/').to_owned(),
        })
    }

    fn path(&self, key: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }
}

fn not_found(key: &str, e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound(key.to_owned()),
        e => StoreError::Backend(e),
    }
}

struct S3Pending {
    write: WriteMultipart,
}

#[async_trait]
impl Store for S3Store {
    async fn begin(&self, key: &str) -> Result<Box<dyn Pending>, StoreError> {
        let upload = self
            .inner
            .put_multipart(&self.path(key))
            .await
            .map_err(StoreError::Backend)?;
        Ok(Box::new(S3Pending {
            write: WriteMultipart::new(upload),
        }))
    }

    async fn read(&self, key: &str, start: u64, end: u64) -> Result<ByteStream, StoreError> {
        let range = if end == u64::MAX {
            GetRange::Offset(start)
        } else {
            GetRange::Bounded(start..end)
        };
        let opts = GetOptions {
            range: Some(range),
            ..GetOptions::default()
        };
        let got = match self.inner.get_opts(&self.path(key), opts).await {
            Ok(g) => g,
            // An empty object has no byte range to ask for.
            Err(object_store::Error::Generic { .. })
            | Err(object_store::Error::NotModified { .. })
                if start == 0 =>
            {
                self.inner
                    .get(&self.path(key))
                    .await
                    .map_err(|e| not_found(key, e))?
            }
            Err(e) => return Err(not_found(key, e)),
        };
        Ok(Box::pin(got.into_stream().map_err(std::io::Error::other)))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.inner.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StoreError::Backend(e)),
        }
    }
}

#[async_trait]
impl Pending for S3Pending {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        self.write
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(StoreError::Backend)?;
        self.write.put(chunk);
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.write.finish().await.map_err(StoreError::Backend)?;
        Ok(())
    }

    async fn abort(self: Box<Self>) {
        if let Err(e) = self.write.abort().await {
            tracing::warn!(error = %virga_common::error::chain(&e), "aborting an S3 upload failed");
        }
    }
}
