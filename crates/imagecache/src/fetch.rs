//! Filling the cache: downloading into a partial file that survives breaks
//! (and restarts), resuming by `Range`, trying each source in turn with
//! backoff, and checking size and sha256 before the image is renamed into
//! place.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::CacheError;

/// Where an image comes from.
#[derive(Debug, Clone)]
pub struct Source {
    pub sha256: String,
    pub size: u64,
    /// Tried in order: the site's store first, the centre last;
    /// `http(s)://`, or `file://` for a site's storage mounted on the node.
    pub urls: Vec<String>,
    /// Sent with every request (e.g. the agent's token).
    pub headers: Vec<(String, String)>,
}

/// Tries per source before moving on to the next.
const ATTEMPTS: u32 = 3;

pub async fn sha256_of(path: &Path) -> Result<String, CacheError> {
    let mut f = tokio::fs::File::open(path).await?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Downloads `src` into the cache under its digest.
pub async fn fill(http: &reqwest::Client, root: &Path, src: &Source) -> Result<(), CacheError> {
    let partial = root.join("partial").join(&src.sha256);
    let mut last = String::from("no sources");
    for url in &src.urls {
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            match download(http, url, src, &partial).await {
                Ok(()) => {}
                Err(Failure { retry, why }) => {
                    tracing::info!(%url, image = %src.sha256, error = %why, "image download broke");
                    last = format!("{url}: {why}");
                    if retry {
                        continue;
                    }
                    break;
                }
            }
            if sha256_of(&partial).await? == src.sha256 {
                let target = root.join("sha256").join(&src.sha256);
                tokio::fs::File::open(&partial).await?.sync_all().await?;
                tokio::fs::rename(&partial, &target).await?;
                tokio::fs::File::open(root.join("sha256"))
                    .await?
                    .sync_all()
                    .await?;
                return Ok(());
            }
            // Whole but wrong: this source is bad; drop what it gave.
            last = format!("{url}: the data does not match its sha256");
            tokio::fs::remove_file(&partial).await?;
            break;
        }
    }
    Err(CacheError::Unavailable {
        digest: src.sha256.clone(),
        last,
    })
}

/// Why a request failed, and whether the same source is worth another try
/// (a broken transfer is; a 404 is not).
struct Failure {
    retry: bool,
    why: String,
}

impl From<String> for Failure {
    fn from(why: String) -> Self {
        Failure { retry: true, why }
    }
}

impl From<&str> for Failure {
    fn from(why: &str) -> Self {
        why.to_owned().into()
    }
}

/// One request: appends to the partial file from where it ends.
async fn download(
    http: &reqwest::Client,
    url: &str,
    src: &Source,
    partial: &PathBuf,
) -> Result<(), Failure> {
    let have = tokio::fs::metadata(partial)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    if have > src.size {
        tokio::fs::remove_file(partial)
            .await
            .map_err(|e| e.to_string())?;
        return Err("the partial file was larger than the image".into());
    }
    if have == src.size {
        return Ok(());
    }
    if let Some(path) = url.strip_prefix("file://") {
        return copy_file(Path::new(path), have, src.size, partial).await;
    }
    let mut req = http.get(url);
    for (k, v) in &src.headers {
        req = req.header(k, v);
    }
    if have > 0 {
        req = req.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let mut file = match (have, status) {
        (0, 200) | (_, 206) => tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(partial)
            .await
            .map_err(|e| e.to_string())?,
        // The source ignored the range: start over.
        (_, 200) => tokio::fs::File::create(partial)
            .await
            .map_err(|e| e.to_string())?,
        (_, s) => {
            return Err(Failure {
                retry: s >= 500,
                why: format!("answered {s}"),
            });
        }
    };
    let mut body = resp.bytes_stream();
    let mut got: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                // Keep what arrived: the next try resumes after it.
                let _ = file.flush().await;
                return Err(e.to_string().into());
            }
        };
        got += chunk.len() as u64;
        if got > src.size {
            return Err("the source sent more than the image's size".into());
        }
        file.write_all(&chunk).await.map_err(|e| e.to_string())?;
    }
    file.flush().await.map_err(|e| e.to_string())?;
    let now = tokio::fs::metadata(partial)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    if now != src.size {
        return Err(format!("the transfer ended at {now} of {} bytes", src.size).into());
    }
    Ok(())
}

/// A `file://` source: appends from `have` on, like a ranged request. On
/// a blocking thread, so the kernel copies (`copy_file_range`) in large
/// steps instead of the async runtime's small reads.
async fn copy_file(from: &Path, have: u64, size: u64, partial: &Path) -> Result<(), Failure> {
    let (from, partial) = (from.to_owned(), partial.to_owned());
    tokio::task::spawn_blocking(move || copy_file_blocking(&from, have, size, &partial))
        .await
        .map_err(|e| Failure::from(e.to_string()))?
}

fn copy_file_blocking(from: &Path, have: u64, size: u64, partial: &Path) -> Result<(), Failure> {
    use std::io::{Seek, Write};
    let mut src = match std::fs::File::open(from) {
        Ok(f) => f,
        // Not there (not copied to this site yet): no use trying again.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure {
                retry: false,
                why: format!("{} does not exist", from.display()),
            });
        }
        Err(e) => return Err(e.to_string().into()),
    };
    let len = src.metadata().map_err(|e| e.to_string())?.len();
    if len != size {
        return Err(Failure {
            retry: false,
            why: format!("{} holds {len} bytes, not {size}", from.display()),
        });
    }
    src.seek(std::io::SeekFrom::Start(have))
        .map_err(|e| e.to_string())?;
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(partial)
        .map_err(|e| e.to_string())?;
    std::io::copy(&mut src, &mut out).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    Ok(())
}
