//! Instances' disks, made with `qemu-img`: a qcow2 overlay whose backing
//! file is the cached image (so the image is stored once however many
//! instances boot from it), grown to the instance's disk size, never
//! shrunk below the image's own.

use std::path::Path;

use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("cannot run qemu-img")]
    Spawn(#[source] std::io::Error),
    #[error("qemu-img {args} failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("qemu-img info gave no virtual size for {0}")]
    Info(String),
}

async fn qemu_img(args: &[&str]) -> Result<String, DiskError> {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .await
        .map_err(DiskError::Spawn)?;
    if !out.status.success() {
        return Err(DiskError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The virtual size of an image, in bytes.
pub async fn virtual_size(image: &Path, format: &str) -> Result<u64, DiskError> {
    let p = image.display().to_string();
    let info = qemu_img(&["info", "-f", format, "--output=json", &p]).await?;
    serde_json::from_str::<serde_json::Value>(&info)
        .ok()
        .and_then(|v| v["virtual-size"].as_u64())
        .ok_or(DiskError::Info(p))
}

/// A qcow2 overlay at `target` over `base` (of `format`), at least
/// `size_gb` large.
pub async fn overlay(
    base: &Path,
    format: &str,
    target: &Path,
    size_gb: u64,
) -> Result<(), DiskError> {
    let own = virtual_size(base, format).await?;
    let want = size_gb.saturating_mul(1 << 30).max(own);
    let (b, t, size) = (
        base.display().to_string(),
        target.display().to_string(),
        want.to_string(),
    );
    qemu_img(&[
        "create", "-q", "-f", "qcow2", "-F", format, "-b", &b, &t, &size,
    ])
    .await?;
    Ok(())
}

/// An empty qcow2 disk of `size_gb` (at least 1 GiB).
pub async fn blank(target: &Path, size_gb: u64) -> Result<(), DiskError> {
    let (t, size) = (target.display().to_string(), format!("{}G", size_gb.max(1)));
    qemu_img(&["create", "-q", "-f", "qcow2", &t, &size]).await?;
    Ok(())
}

/// `disk` (an overlay) as one standalone `format` file at `target`.
pub async fn flatten(disk: &Path, target: &Path, format: &str) -> Result<(), DiskError> {
    let (d, t) = (disk.display().to_string(), target.display().to_string());
    qemu_img(&["convert", "-q", "-f", "qcow2", "-O", format, &d, &t]).await?;
    Ok(())
}
