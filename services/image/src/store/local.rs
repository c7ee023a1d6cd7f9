//! Image data as files under one directory: written to a hidden temporary
//! file, fsynced, then renamed into place (and the directory fsynced), so a
//! half-written image is never read, even after a crash.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{ByteStream, Pending, Store, StoreError};

#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: PathBuf,
}

impl LocalStore {
    pub fn new(dir: PathBuf) -> Self {
        LocalStore { dir }
    }

    /// Keys are ours (image ids, digests), but a key must never leave the
    /// directory whatever it holds.
    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let ok = !key.is_empty()
            && key
                .split('/')
                .all(|p| !p.is_empty() && p != "." && p != ".." && !p.starts_with('.'));
        if !ok {
            return Err(StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad store key {key:?}"),
            )));
        }
        Ok(self.dir.join(key))
    }
}

/// Writes go to the file in blocks this big: each write is a hop to
/// tokio's blocking pool, and request bodies arrive in small chunks.
const WRITE_BUFFER: usize = 1 << 20;

struct LocalPending {
    file: tokio::io::BufWriter<tokio::fs::File>,
    tmp: PathBuf,
    target: PathBuf,
}

async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

#[async_trait]
impl Store for LocalStore {
    async fn begin(&self, key: &str) -> Result<Box<dyn Pending>, StoreError> {
        let target = self.path(key)?;
        let parent = target.parent().unwrap_or(&self.dir).to_path_buf();
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(StoreError::Io)?;
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let tmp = parent.join(format!(".{name}.{}.partial", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&tmp)
            .await
            .map_err(StoreError::Io)?;
        Ok(Box::new(LocalPending {
            file: tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file),
            tmp,
            target,
        }))
    }

    async fn read(&self, key: &str, start: u64, end: u64) -> Result<ByteStream, StoreError> {
        let mut file = match tokio::fs::File::open(self.path(key)?).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(key.to_owned()));
            }
            Err(e) => return Err(StoreError::Io(e)),
        };
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(StoreError::Io)?;
        let reader = tokio_util::io::ReaderStream::with_capacity(
            file.take(end.saturating_sub(start)),
            256 << 10,
        );
        Ok(Box::pin(reader))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io(e)),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl Pending for LocalPending {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        self.file.write_all(&chunk).await.map_err(StoreError::Io)
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let LocalPending {
            mut file,
            tmp,
            target,
        } = *self;
        let done = async {
            file.flush().await?;
            let file = file.into_inner();
            file.sync_all().await?;
            drop(file);
            tokio::fs::rename(&tmp, &target).await?;
            if let Some(dir) = target.parent() {
                sync_dir(dir).await?;
            }
            Ok(())
        }
        .await;
        if done.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        done.map_err(StoreError::Io)
    }

    async fn abort(self: Box<Self>) {
        let LocalPending { file, tmp, .. } = *self;
        drop(file);
        let _ = tokio::fs::remove_file(&tmp).await;
    }
}
