//! Image data as files under `<data_dir>/images/`: written to a temporary
//! file while hashed, fsynced, then renamed into place, so a half-written
//! image is never read; read back whole or by byte range.

use std::path::PathBuf;

use futures::StreamExt;
use md5::Md5;
use sha2::{Digest, Sha512};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{ByteStream, StoreError, Written};

#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: PathBuf,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl LocalStore {
    pub fn new(dir: PathBuf) -> Self {
        LocalStore { dir }
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Streams `body` into the image's file. `expected` is the size the
    /// client announced (a shorter or longer body is refused); `limit` caps
    /// what is accepted at all. Nothing is left behind on failure.
    pub async fn put(
        &self,
        id: &str,
        mut body: ByteStream,
        expected: Option<u64>,
        limit: u64,
    ) -> Result<Written, StoreError> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(StoreError::Io)?;
        let tmp = self
            .dir
            .join(format!(".{id}.{}.partial", uuid::Uuid::new_v4().simple()));
        let result = async {
            let mut file = tokio::fs::File::create(&tmp)
                .await
                .map_err(StoreError::Io)?;
            let (mut md5, mut sha) = (Md5::new(), Sha512::new());
            let mut size: u64 = 0;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(StoreError::Body)?;
                size += chunk.len() as u64;
                if size > limit {
                    return Err(StoreError::TooLarge { limit });
                }
                md5.update(&chunk);
                sha.update(&chunk);
                file.write_all(&chunk).await.map_err(StoreError::Io)?;
            }
            if let Some(expected) = expected.filter(|e| *e != size) {
                return Err(StoreError::SizeMismatch {
                    expected,
                    got: size,
                });
            }
            file.sync_all().await.map_err(StoreError::Io)?;
            Ok(Written {
                size,
                md5: hex(&md5.finalize()),
                sha512: hex(&sha.finalize()),
            })
        }
        .await;
        match result {
            Ok(w) => {
                tokio::fs::rename(&tmp, self.path(id))
                    .await
                    .map_err(StoreError::Io)?;
                Ok(w)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    /// Bytes `start..end` (end exclusive) of the image's data, streamed.
    pub async fn read(&self, id: &str, start: u64, end: u64) -> Result<ByteStream, StoreError> {
        let mut file = tokio::fs::File::open(self.path(id))
            .await
            .map_err(StoreError::Io)?;
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(StoreError::Io)?;
        let reader = tokio_util::io::ReaderStream::new(file.take(end - start));
        Ok(Box::pin(reader))
    }

    /// Removes the image's data; data that is not there is no error.
    pub async fn delete(&self, id: &str) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path(id)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io(e)),
            _ => Ok(()),
        }
    }
}
