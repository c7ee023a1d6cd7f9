//! Image data: uploading (queued -> saving -> active, hashed while it
//! streams, back to queued on any failure) and downloading, whole or by
//! byte range.

use std::sync::Arc;

use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::image as images;
use super::ingest::{self, Expect, IngestError, Ingested};
use crate::db::image;
use crate::signature;
use crate::store::{ByteStream, Store};

/// Where active images' data lives (`image.store`).
pub fn store(ctx: &ServiceContext) -> Result<Arc<dyn Store>, Error> {
    crate::store::configured(ctx.config()).map_err(Error::internal)
}

/// The formats an image must have before it takes data, as `Expect` wants
/// them.
pub fn formats(m: &image::Model) -> Result<(String, String), Error> {
    match (&m.disk_format, &m.container_format) {
        (Some(d), Some(c)) => Ok((d.clone(), c.clone())),
        (None, _) => Err(unset("disk_format")),
        (_, None) => Err(unset("container_format")),
    }
}

fn unset(field: &str) -> Error {
    Error::BadRequest(format!(
        "Property {field} must be set prior to saving data."
    ))
}

/// The signature the image's properties ask its data to carry; 400 when
/// they are incomplete, malformed or name an untrusted certificate.
async fn signature_check(
    ctx: &ServiceContext,
    id: &str,
) -> Result<Option<signature::Check>, Error> {
    let props = image::properties(ctx.db(), id).await?;
    let cfg = ctx.config();
    let dir = cfg
        .image
        .signature_certificates_dir
        .clone()
        .unwrap_or_else(|| cfg.data_dir.join("image-signing-certs"));
    signature::check_for(&props, &dir).map_err(|e| Error::BadRequest(e.to_string()))
}

/// The error a failed ingest is to its caller; logged with its cause.
/// `by_quota`: the cap the data ran into was the project's quota.
pub fn ingest_error(id: &str, e: IngestError, by_quota: bool) -> Error {
    if !e.is_client() {
        return Error::internal(e);
    }
    tracing::info!(image = %id, error = %virga_common::error::chain(&e), "image data refused");
    match e {
        IngestError::TooLarge { limit } => super::quota::too_large(limit, by_quota),
        _ => Error::BadRequest(e.to_string()),
    }
}

/// Records ingested data on an image in status `from` and makes it
/// active; if the image went away meanwhile, its data goes too.
pub async fn finish(
    ctx: &ServiceContext,
    store: &dyn Store,
    id: &str,
    from: &str,
    got: &Ingested,
) -> Result<(), Error> {
    let facts = image::DataFacts {
        size: i64::try_from(got.size).map_err(Error::internal)?,
        virtual_size: got.virtual_size.and_then(|v| i64::try_from(v).ok()),
        md5: &got.md5,
        hash_algo: ingest::HASH_ALGO,
        hash: &got.sha256,
    };
    // Active data is never staged: the stage marker goes in the same step.
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if image::finish_data(&txn, id, from, &facts).await? {
        image::set_internal(&txn, id, super::stage::STAGE_HOST, None).await?;
        txn.commit().await.map_err(Error::internal)?;
        tracing::info!(image = %id, size = got.size, "image data stored");
        return Ok(());
    }
    drop(txn);
    match image::find(ctx.db(), id).await? {
        // Deleted while its data came in: the data must not linger.
        None => {
            store.delete(id).await.map_err(Error::internal)?;
            super::oci_blobs::collect(ctx.db(), store).await?;
            Err(Error::NotFound {
                kind: "image",
                id: id.to_owned(),
            })
        }
        Some(m) => Err(Error::Conflict(format!(
            "Image status changed to {} while its data was stored",
            m.status
        ))),
    }
}

/// What data for image `m` must satisfy (its quota room as the cap, its
/// signature if it is signed, `formats` if they are to be inspected), and
/// whether that cap is the quota rather than the size cap.
pub async fn expect_for(
    ctx: &ServiceContext,
    m: &image::Model,
    formats: Option<(String, String)>,
) -> Result<(Expect, bool), Error> {
    let room = super::quota::room(ctx, m.owner.as_deref()).await?;
    expect_within(ctx, m, formats, room).await
}

/// `expect_for` with the size cap alone, no quota.
async fn expect_uncounted(
    ctx: &ServiceContext,
    m: &image::Model,
    formats: Option<(String, String)>,
) -> Result<(Expect, bool), Error> {
    expect_within(ctx, m, formats, (ctx.config().image.size_cap, false)).await
}

async fn expect_within(
    ctx: &ServiceContext,
    m: &image::Model,
    formats: Option<(String, String)>,
    (cap, by_quota): (u64, bool),
) -> Result<(Expect, bool), Error> {
    let oci = match &formats {
        Some((_, c)) if crate::oci::is_oci(c) => {
            Some(ingest::OciLedger(Arc::new(super::oci_blobs::Ledger {
                db: ctx.db().clone(),
                store: store(ctx)?,
                image_id: m.id.clone(),
            })))
        }
        _ => None,
    };
    let expect = Expect {
        cap,
        formats,
        oci,
        signature: signature_check(ctx, &m.id).await?,
        ..Expect::default()
    };
    Ok((expect, by_quota))
}

/// Moves a queued image to `to` (saving, uploading) as data starts to come
/// in; 409 when it is not queued (any more).
pub async fn start_receiving(
    db: &impl virga_db::sea_orm::ConnectionTrait,
    m: &image::Model,
    to: &str,
) -> Result<(), Error> {
    if image::set_status_if(db, &m.id, "queued", to).await? {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "Image status transition from {} to {to} is not allowed",
            m.status
        )))
    }
}

/// `PUT /file`: queued -> saving -> active, or back to queued.
pub async fn upload(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    body: ByteStream,
    size: Option<u64>,
    md5: Option<String>,
) -> Result<(), Error> {
    let m = images::allowed(ctx, auth, id, "image:upload_image").await?;
    receive(ctx, m, body, size, md5).await
}

/// A `PUT` by signed upload URL (see `location`): no token, the signature
/// is the permission, as a node exporting a server's disk has none.
pub async fn upload_signed(
    ctx: &ServiceContext,
    id: &str,
    expires: i64,
    signature: &str,
    body: ByteStream,
    size: Option<u64>,
    md5: Option<String>,
) -> Result<(), Error> {
    let m = super::location::signed_upload(ctx, id, expires, signature).await?;
    // Only services are given upload URLs, for their own images (a moving
    // server's disk): the size cap applies, no tenant's quota.
    receive_as(ctx, m, body, size, md5, false).await
}

/// Stores the data of the queued image `m`.
async fn receive(
    ctx: &ServiceContext,
    m: image::Model,
    body: ByteStream,
    size: Option<u64>,
    md5: Option<String>,
) -> Result<(), Error> {
    receive_as(ctx, m, body, size, md5, true).await
}

/// `receive`, within the owner's quota or (`quota` false) the size cap only.
async fn receive_as(
    ctx: &ServiceContext,
    m: image::Model,
    body: ByteStream,
    size: Option<u64>,
    md5: Option<String>,
    quota: bool,
) -> Result<(), Error> {
    let id = m.id.as_str();
    let (mut expect, by_quota) = if quota {
        expect_for(ctx, &m, Some(formats(&m)?)).await?
    } else {
        expect_uncounted(ctx, &m, Some(formats(&m)?)).await?
    };
    expect.size = size;
    expect.md5 = md5;
    let db = ctx.db();
    start_receiving(db, &m, "saving").await?;
    let store = store(ctx)?;
    match ingest::ingest(store.as_ref(), id, body, &expect).await {
        Ok(got) => finish(ctx, store.as_ref(), id, "saving", &got).await,
        Err(e) => {
            image::set_status_if(db, id, "saving", "queued").await?;
            Err(ingest_error(id, e, by_quota))
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
        return Err(deactivated());
    }
    serve(ctx, m, range).await
}

fn deactivated() -> Error {
    Error::Forbidden(
        "The requested image has been deactivated. Image data download is forbidden.".into(),
    )
}

/// A download by signed URL (see `location`): no token, the signature is
/// the permission; a deactivated image is refused to every node.
pub async fn download_signed(
    ctx: &ServiceContext,
    id: &str,
    expires: i64,
    signature: &str,
    range: Option<&str>,
) -> Result<Result<Download, Unsatisfiable>, Error> {
    let m = super::location::signed(ctx, id, expires, signature).await?;
    if m.status == "deactivated" {
        return Err(deactivated());
    }
    serve(ctx, m, range).await
}

/// The image's data, whole or one range.
async fn serve(
    ctx: &ServiceContext,
    m: image::Model,
    range: Option<&str>,
) -> Result<Result<Download, Unsatisfiable>, Error> {
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
    let body = open(ctx, &m, start, end).await?;
    Ok(Ok(Download {
        body: Some(body),
        start,
        end,
        size,
        md5: m.checksum,
        partial,
    }))
}

/// Bytes `start..end` of an image's data in the central store (an OCI
/// archive rebuilt from its recipe and blobs).
pub async fn open(
    ctx: &ServiceContext,
    m: &image::Model,
    start: u64,
    end: u64,
) -> Result<ByteStream, Error> {
    let store = store(ctx)?;
    let recipe = match m.container_format.as_deref() {
        Some(c) if crate::oci::is_oci(c) => crate::oci::recipe(store.as_ref(), &m.id)
            .await
            .map_err(Error::internal)?,
        _ => None,
    };
    match recipe {
        Some(r) => Ok(r.read(store.clone(), start, end)),
        None => store.read(&m.id, start, end).await.map_err(Error::internal),
    }
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

/// Removes an image's data, staged or stored, and OCI blobs no other
/// image uses (after its row, and so its blob references, are gone).
pub async fn forget(ctx: &ServiceContext, id: &str) -> Result<(), Error> {
    super::stage::staging(ctx)
        .delete(id)
        .await
        .map_err(Error::internal)?;
    let store = store(ctx)?;
    store.delete(id).await.map_err(Error::internal)?;
    super::oci_blobs::collect(ctx.db(), store.as_ref()).await?;
    Ok(())
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
