//! Where an instance's image is on this node.
//!
//! Images live in the node's content-addressed cache (`virga-imagecache`,
//! `<instance_path>/_cache`), fetched from the sources the centre names —
//! this site's store first, the central store last — verified by sha256
//! before each build, and held (never evicted) while an instance's disk is
//! layered on them. `<instance_path>/_base/<image id>` names each image by
//! id, as Nova's `_base`: a link into the cache, or a file an operator put
//! there. A site cut off from the centre builds from what the cache
//! holds; an image neither held nor fetchable cannot be booted, and the
//! instance goes to `error` saying so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use virga_imagecache::{Cache, Lease, Source};
use virga_protocol::agent::ImageRef;

use crate::driver::BootImage;

/// Finds the images instances boot from.
#[async_trait]
pub trait Images: Send + Sync + 'static {
    /// The local copy of `image` for `instance` (fetched if need be and
    /// held until [`Images::release`]), or why there is none.
    async fn boot_image(&self, instance: &str, image: &ImageRef) -> Result<BootImage, String>;

    /// Holds the image an existing instance was built from (after a
    /// restart), without fetching it.
    fn keep(&self, instance: &str, image: &ImageRef);

    /// `instance` is gone: its image may be evicted.
    fn release(&self, instance: &str);

    /// Makes the node hold `image` before any instance needs it.
    async fn fetch(&self, image: &ImageRef) -> Result<(), String>;

    /// The image ids this node holds (heartbeats carry them, for the
    /// scheduler's image locality).
    fn held(&self) -> Vec<String>;
}

/// The node's images: the `_base` names over the content cache.
pub struct NodeImages {
    base: PathBuf,
    cache: Arc<Cache>,
    /// This node's site: its store is tried first.
    site: String,
    leases: Mutex<HashMap<String, Lease>>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl NodeImages {
    /// `base` is `_base`; the cache at `cache_root` keeps at most `limit` bytes.
    pub fn open(
        base: PathBuf,
        cache_root: &Path,
        limit: u64,
        site: &str,
    ) -> Result<NodeImages, virga_imagecache::CacheError> {
        std::fs::create_dir_all(&base)?;
        Ok(NodeImages {
            base,
            cache: Cache::open(cache_root, limit)?,
            site: site.to_owned(),
            leases: Mutex::default(),
        })
    }

    pub fn cache(&self) -> &Arc<Cache> {
        &self.cache
    }

    /// The cached copy of `image`, fetched if the centre said from where;
    /// `None` when the image names no content to fetch.
    async fn cached(&self, image: &ImageRef) -> Option<Result<Lease, String>> {
        let digest = image.sha256.as_deref()?;
        let size = match image.size {
            Some(s) => s,
            None if self.cache.has(digest) => std::fs::metadata(self.cache.path(digest))
                .map(|m| m.len())
                .ok()?,
            None => return None,
        };
        if image.sources.is_empty() && !self.cache.has(digest) {
            return None;
        }
        let src = Source {
            sha256: digest.to_owned(),
            size,
            urls: self.urls(image),
            headers: vec![],
        };
        Some(match self.cache.ensure(&src, true).await {
            Ok(lease) => {
                self.link(&image.id, &lease.path);
                Ok(lease)
            }
            Err(e) => Err(format!(
                "image {} is not on this node and could not be fetched: {}",
                image.id,
                virga_common::error::chain(&e)
            )),
        })
    }

    /// Where to fetch from, in order: this site's store first, then the
    /// others in the centre's order (it lists the central store last).
    fn urls(&self, image: &ImageRef) -> Vec<String> {
        let mut sources: Vec<_> = image.sources.iter().collect();
        sources.sort_by_key(|s| s.store != self.site);
        sources.iter().map(|s| s.url.clone()).collect()
    }

    /// Points `_base/<id>` at the cached copy (atomically).
    fn link(&self, id: &str, target: &Path) {
        let name = self.base.join(id);
        if std::fs::symlink_metadata(&name).is_ok_and(|m| m.is_file()) {
            return; // An operator's own file: left alone.
        }
        let tmp = self.base.join(format!(".{id}.link"));
        let _ = std::fs::remove_file(&tmp);
        let linked =
            std::os::unix::fs::symlink(target, &tmp).and_then(|()| std::fs::rename(&tmp, &name));
        if let Err(e) = linked {
            tracing::warn!(image = %id, error = %e, "cannot name the cached image in _base");
        }
    }

    fn not_held(&self, id: &str) -> String {
        format!(
            "image {id} is not in this node's image cache ({}) and no source for it was given",
            self.base.display()
        )
    }
}

#[async_trait]
impl Images for NodeImages {
    async fn boot_image(&self, instance: &str, image: &ImageRef) -> Result<BootImage, String> {
        if !valid_id(&image.id) {
            return Err(format!("{:?} is not an image id", image.id));
        }
        let format = image.disk_format.clone();
        if let Some(got) = self.cached(image).await {
            let lease = got?;
            let path = lease.path.clone();
            self.leases
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(instance.to_owned(), lease);
            return Ok(BootImage { path, format });
        }
        let path = self.base.join(&image.id);
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() => Ok(BootImage { path, format }),
            _ => Err(self.not_held(&image.id)),
        }
    }

    fn keep(&self, instance: &str, image: &ImageRef) {
        let Some(digest) = image.sha256.as_deref() else {
            return;
        };
        if let Ok(lease) = self.cache.hold(digest) {
            self.leases
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(instance.to_owned(), lease);
        }
    }

    fn release(&self, instance: &str) {
        self.leases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(instance);
    }

    async fn fetch(&self, image: &ImageRef) -> Result<(), String> {
        if !valid_id(&image.id) {
            return Err(format!("{:?} is not an image id", image.id));
        }
        match self.cached(image).await {
            Some(got) => got.map(drop),
            None if self.base.join(&image.id).is_file() => Ok(()),
            None => Err(self.not_held(&image.id)),
        }
    }

    fn held(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.base) else {
            return Vec::new();
        };
        let mut ids = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !valid_id(&name) {
                continue;
            }
            // Follows the link: an evicted image's name dangles.
            if e.path().is_file() {
                ids.push(name);
            } else if e.file_type().is_ok_and(|t| t.is_symlink()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        ids.sort();
        ids
    }
}

#[cfg(test)]
#[path = "images/tests.rs"]
mod tests;
