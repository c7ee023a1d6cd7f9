//! A node's image cache, for the agents that boot instances from images.
//!
//! Images are kept by content, `<root>/sha256/<hex>`, so one image is held
//! once whatever it is called. A missing image is downloaded from the first
//! of its sources that works (the site's store, then the centre), into
//! `<root>/partial/<hex>`: a broken transfer resumes by `Range` from what
//! the partial file holds, even after the agent restarts; the result is
//! checked against the image's sha256 and size, fsynced, and only then
//! renamed into place, so a half-written or corrupt image is never used.
//! The cache stays under its size limit by evicting the least recently
//! used images that no lease holds, and reports what it holds (for the
//! scheduler's image locality).

mod fetch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

pub use fetch::Source;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{0:?} is not a sha256 digest")]
    BadDigest(String),
    #[error("the cache cannot make room for {needed} bytes within its {limit}-byte limit")]
    Full { needed: u64, limit: u64 },
    #[error("no source delivered image {digest}: {last}")]
    Unavailable { digest: String, last: String },
    #[error("cache I/O failed")]
    Io(#[from] std::io::Error),
}

/// One cached image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub sha256: String,
    pub size: u64,
    pub last_used: SystemTime,
}

pub struct Cache {
    root: PathBuf,
    limit: u64,
    /// Digest → leases held: a held image is never evicted.
    pinned: Mutex<HashMap<String, usize>>,
    /// One fill per digest at a time; others wait and then find it there.
    filling: tokio::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    http: reqwest::Client,
}

/// An image in use: its path stays valid (unevicted) while this lives.
pub struct Lease {
    cache: Arc<Cache>,
    pub sha256: String,
    pub path: PathBuf,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.cache.unpin(&self.sha256);
    }
}

fn check_digest(d: &str) -> Result<(), CacheError> {
    if d.len() == 64
        && d.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        Ok(())
    } else {
        Err(CacheError::BadDigest(d.to_owned()))
    }
}

impl Cache {
    /// Opens (creating) a cache at `root` holding at most `limit` bytes.
    pub fn open(root: &Path, limit: u64) -> Result<Arc<Cache>, CacheError> {
        std::fs::create_dir_all(root.join("sha256"))?;
        std::fs::create_dir_all(root.join("partial"))?;
        Ok(Arc::new(Cache {
            root: root.to_owned(),
            limit,
            pinned: Mutex::default(),
            filling: tokio::sync::Mutex::default(),
            http: reqwest::Client::new(),
        }))
    }

    /// Where `digest` is (or would be) kept.
    pub fn path(&self, digest: &str) -> PathBuf {
        self.root.join("sha256").join(digest)
    }

    /// What the cache holds, least recently used first.
    pub fn contents(&self) -> Result<Vec<Entry>, CacheError> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(self.root.join("sha256"))? {
            let e = e?;
            let meta = e.metadata()?;
            out.push(Entry {
                sha256: e.file_name().to_string_lossy().into_owned(),
                size: meta.len(),
                last_used: meta.modified()?,
            });
        }
        out.sort_by_key(|e| e.last_used);
        Ok(out)
    }

    fn pin(&self, digest: &str) {
        let mut p = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        *p.entry(digest.to_owned()).or_default() += 1;
    }

    fn unpin(&self, digest: &str) {
        let mut p = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = p.get_mut(digest) {
            *n -= 1;
            if *n == 0 {
                p.remove(digest);
            }
        }
    }

    fn is_pinned(&self, digest: &str) -> bool {
        let p = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        p.contains_key(digest)
    }

    /// Holds `digest` (whether or not the cache has it yet) so it is not
    /// evicted while the lease lives: an agent holds the images its
    /// instances' disks are layered on.
    pub fn hold(self: &Arc<Self>, digest: &str) -> Result<Lease, CacheError> {
        check_digest(digest)?;
        self.pin(digest);
        Ok(Lease {
            cache: self.clone(),
            sha256: digest.to_owned(),
            path: self.path(digest),
        })
    }

    /// Whether the cache holds `digest` (by its presence, not re-hashed).
    pub fn has(&self, digest: &str) -> bool {
        check_digest(digest).is_ok() && self.path(digest).is_file()
    }

    /// The image, from the cache or fetched into it. With `verify`, a
    /// cached copy is re-hashed first and refetched if it is corrupt;
    /// without, only its size is checked.
    pub async fn ensure(self: &Arc<Self>, src: &Source, verify: bool) -> Result<Lease, CacheError> {
        let lease = self.hold(&src.sha256)?;
        let digest = src.sha256.clone();
        let gate = {
            let mut f = self.filling.lock().await;
            f.entry(digest.clone()).or_default().clone()
        };
        let _filling = gate.lock().await;
        if self.usable(&digest, src.size, verify).await? {
            touch(&lease.path);
            return Ok(lease);
        }
        self.make_room(src.size)?;
        fetch::fill(&self.http, &self.root, src).await?;
        Ok(lease)
    }

    /// Whether the cached copy is there and right; a wrong one is removed.
    async fn usable(&self, digest: &str, size: u64, verify: bool) -> Result<bool, CacheError> {
        let path = self.path(digest);
        let Ok(meta) = tokio::fs::metadata(&path).await else {
            return Ok(false);
        };
        let right = meta.len() == size && (!verify || fetch::sha256_of(&path).await? == digest);
        if !right {
            tracing::warn!(image = %digest, "cached image is corrupt; fetching it again");
            tokio::fs::remove_file(&path).await?;
        }
        Ok(right)
    }

    /// Re-hashes every image no lease holds and removes the corrupt ones;
    /// the digests removed (an agent runs this now and then).
    pub async fn scrub(&self) -> Result<Vec<String>, CacheError> {
        let mut bad = Vec::new();
        for e in self.contents()? {
            if !self.is_pinned(&e.sha256)
                && fetch::sha256_of(&self.path(&e.sha256)).await? != e.sha256
            {
                tokio::fs::remove_file(self.path(&e.sha256)).await?;
                bad.push(e.sha256);
            }
        }
        Ok(bad)
    }

    /// Evicts least recently used, unheld images until `needed` more bytes
    /// fit under the limit.
    fn make_room(&self, needed: u64) -> Result<(), CacheError> {
        let full = CacheError::Full {
            needed,
            limit: self.limit,
        };
        if needed > self.limit {
            return Err(full);
        }
        let entries = self.contents()?;
        let mut used: u64 = entries.iter().map(|e| e.size).sum();
        for e in entries {
            if used + needed <= self.limit {
                break;
            }
            if self.is_pinned(&e.sha256) {
                continue;
            }
            std::fs::remove_file(self.path(&e.sha256))?;
            tracing::info!(image = %e.sha256, size = e.size, "evicted from the image cache");
            used -= e.size;
        }
        if used + needed > self.limit {
            return Err(full);
        }
        Ok(())
    }
}

/// Marks an image as just used (its mtime is the LRU clock).
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().write(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}
