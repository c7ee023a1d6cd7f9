//! Where an instance's image is on this node: `<instance_path>/_base/`,
//! one file per image id (as Nova's `_base`). The node's image cache
//! fills it; an image that is not there cannot be booted, and the
//! instance goes to `error` saying so.

use std::path::PathBuf;

use async_trait::async_trait;
use virga_protocol::agent::ImageRef;

use crate::driver::BootImage;

/// Finds the images instances boot from.
#[async_trait]
pub trait Images: Send + Sync + 'static {
    /// The local copy of `image`, or why there is none.
    async fn boot_image(&self, image: &ImageRef) -> Result<BootImage, String>;

    /// The image ids this node holds (heartbeats carry them, for the
    /// scheduler's image locality).
    fn held(&self) -> Vec<String>;
}

/// The `_base` directory.
pub struct BaseDir {
    dir: PathBuf,
}

impl BaseDir {
    pub fn new(dir: PathBuf) -> Self {
        BaseDir { dir }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.dir
    }

    fn valid_id(id: &str) -> bool {
        !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }
}

#[async_trait]
impl Images for BaseDir {
    async fn boot_image(&self, image: &ImageRef) -> Result<BootImage, String> {
        if !Self::valid_id(&image.id) {
            return Err(format!("{:?} is not an image id", image.id));
        }
        let path = self.dir.join(&image.id);
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() => Ok(BootImage {
                path,
                format: image.disk_format.clone(),
            }),
            _ => Err(format!(
                "image {} is not in this node's image cache ({})",
                image.id,
                self.dir.display()
            )),
        }
    }

    fn held(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| Self::valid_id(n))
            .collect();
        ids.sort();
        ids
    }
}
