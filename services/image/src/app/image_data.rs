//! Image data: uploading (queued -> saving -> active, hashed while it
//! streams, back to queued on any failure) and downloading, whole or by
//! byte range.

use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::image as images;
use crate::db::image;
use crate::store::{ByteStream, LocalStore, StoreError};

/// Glance's `image_size_cap` default: 1 TiB.
pub const SIZE_CAP: u64 = 1 << 40;

pub fn store(ctx: &ServiceContext) -> LocalStore {
    LocalStore::new(ctx.config().data_dir.join("images"))
}

pub async fn upload(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    body: ByteStream,
    expected: Option<u64>,
) -> Result<(), Error> {
    let m = images::allowed(ctx, auth, id, "image:upload_image").await?;
    for (field, v) in [
        ("disk_format", &m.disk_format),
        ("container_format", &m.container_format),
    ] {
        if v.is_none() {
            return Err(Error::BadRequest(format!(
                "Property {field} must be set prior to saving data."
            )));
        }
    }
    let db = ctx.db();
    if !image::set_status_if(db, id, "queued", "saving").await? {
        return Err(Error::Conflict(format!(
            "Image status transition from {} to saving is not allowed",
            m.status
        )));
    }
    let store = store(ctx);
    match store.put(id, body, expected, SIZE_CAP).await {
        Ok(w) => {
            let size = i64::try_from(w.size).map_err(Error::internal)?;
            if image::finish_upload(db, id, size, &w.md5, &w.sha512).await? {
                tracing::info!(image = %id, size = w.size, "image data stored");
                Ok(())
            } else {
                // Deleted while it uploaded: its data must not linger.
                store.delete(id).await.map_err(Error::internal)?;
                Err(Error::NotFound {
                    kind: "image",
                    id: id.to_owned(),
                })
            }
        }
        Err(e) => {
            image::set_status_if(db, id, "saving", "queued").await?;
            Err(match e {
                StoreError::SizeMismatch { .. } | StoreError::Body(_) => {
                    tracing::info!(image = %id, error = %virga_common::error::chain(&e), "upload refused");
                    Error::BadRequest(e.to_string())
                }
                StoreError::TooLarge { .. } => Error::PayloadTooLarge(e.to_string()),
                StoreError::Io(_) => Error::internal(e),
            })
        }
    }
}

/// What a download sends: the bytes `start..end` of `size`, or nothing.
pub struct Download {
    pub body: Option<ByteStream>,
    pub start: u64,
    pub end: u64,
    pub size: u64,
    pub md5: Option<String>,
    pub partial: bool,
}

/// A `Range` the image cannot satisfy (416).
pub struct Unsatisfiable {
    pub size: u64,
}

pub async fn download(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    range: Option<&str>,
) -> Result<Result<Download, Unsatisfiable>, Error> {
    let m = images::visible(ctx, auth, id).await?.model;
    if m.status == "deactivated" && !auth.allows("context_is_admin", &Target::new()) {
        return Err(Error::Forbidden(
            "The requested image has been deactivated. Image data download is forbidden.".into(),
        ));
    }
    let size = match (m.status.as_str(), m.size) {
        ("active" | "deactivated", Some(s)) => u64::try_from(s).map_err(Error::internal)?,
        _ => {
            return Ok(Ok(Download {
                body: None,
                start: 0,
                end: 0,
                size: 0,
                md5: None,
                partial: false,
            }));
        }
    };
    let (start, end, partial) = match range {
        None => (0, size, false),
        Some(r) => match parse_range(r, size) {
            Some((s, e)) => (s, e, true),
            None => return Ok(Err(Unsatisfiable { size })),
        },
    };
    let body = store(ctx)
        .read(id, start, end)
        .await
        .map_err(Error::internal)?;
    Ok(Ok(Download {
        body: Some(body),
        start,
        end,
        size,
        md5: m.checksum,
        partial,
    }))
}

/// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range as `start..end`; None
/// when malformed or outside the data.
pub fn parse_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (size.checked_sub(n.min(size))?, size)
        }
        (a, "") => (a.parse().ok()?, size),
        (a, b) => {
            let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
            (a, b.checked_add(1)?.min(size))
        }
    };
    (start < end && start < size).then_some((start, end))
}

/// Removes an image's data (after its row is gone).
pub async fn forget(ctx: &ServiceContext, id: &str) -> Result<(), Error> {
    store(ctx).delete(id).await.map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=95-200", 100), Some((95, 100)));
        assert_eq!(parse_range("bytes=-200", 100), Some((0, 100)));
        for bad in [
            "bytes=100-",
            "bytes=5-2",
            "bytes=x-1",
            "items=0-1",
            "bytes=0-1,3-4",
            "bytes=-0",
        ] {
            assert_eq!(parse_range(bad, 100), None, "{bad}");
        }
    }
}
