//! Per-project image quotas: how many images a project may own and how
//! many bytes of data they may hold (Glance's `image_count_total` and
//! `image_size_total`), and the usage report of `/v2/info/usage`.
//!
//! Two uploads racing for the last bytes can both pass (each is capped at
//! what was free when it began), as in Glance; the overshoot is bounded by
//! one image per concurrent upload.

use virga_common::Error;
use virga_service::ServiceContext;

use crate::db::image;

/// A project's usage against its limits; -1 limits are unlimited.
pub struct Usage {
    pub images: i64,
    pub images_limit: i64,
    pub bytes: i64,
    pub bytes_limit: i64,
}

pub async fn usage(ctx: &ServiceContext, owner: &str) -> Result<Usage, Error> {
    let (images, bytes) = image::usage(ctx.db(), owner).await?;
    let q = &ctx.config().image.quota;
    Ok(Usage {
        images,
        images_limit: q.images,
        bytes,
        bytes_limit: q.bytes,
    })
}

/// 413 when `owner` may not have one more image.
pub async fn check_new_image(ctx: &ServiceContext, owner: Option<&str>) -> Result<(), Error> {
    let Some(owner) = owner else { return Ok(()) };
    let u = usage(ctx, owner).await?;
    if u.images_limit >= 0 && u.images >= u.images_limit {
        return Err(Error::PayloadTooLarge(format!(
            "Quota exceeded: image_count_total is {} and the project has {} images.",
            u.images_limit, u.images
        )));
    }
    Ok(())
}

/// How many more bytes an upload for `owner` may take, and whether the
/// quota (rather than the size cap) is what limits it.
pub async fn room(ctx: &ServiceContext, owner: Option<&str>) -> Result<(u64, bool), Error> {
    let cap = ctx.config().image.size_cap;
    let Some(owner) = owner else {
        return Ok((cap, false));
    };
    let u = usage(ctx, owner).await?;
    if u.bytes_limit < 0 {
        return Ok((cap, false));
    }
    let free = u64::try_from((u.bytes_limit - u.bytes).max(0)).unwrap_or(0);
    Ok((free.min(cap), free < cap))
}

/// The error for data over `limit` bytes.
pub fn too_large(limit: u64, by_quota: bool) -> Error {
    if by_quota {
        Error::PayloadTooLarge(format!(
            "Quota exceeded: image_size_total leaves room for {limit} more bytes."
        ))
    } else {
        Error::PayloadTooLarge(format!("The data exceeds the size cap of {limit} bytes."))
    }
}
