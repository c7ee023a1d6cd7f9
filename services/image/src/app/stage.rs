//! `glance-direct`'s first half: data staged on this host (queued ->
//! uploading), invisible until an import moves it into the store.

use std::sync::Arc;

use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::image as images;
use super::image_data::{expect_for, formats, ingest_error, start_receiving};
use super::ingest;
use crate::db::image;
use crate::store::{ByteStream, LocalStore, Store};

/// Names the host holding an image's staged data.
pub const STAGE_HOST: &str = "os_glance_stage_host";

/// Staged data, on this host only.
pub fn staging(ctx: &ServiceContext) -> Arc<dyn Store> {
    Arc::new(LocalStore::new(ctx.config().data_dir.join("staging")))
}

/// 404 unless the import API offers `method`.
pub fn enabled(ctx: &ServiceContext, method: &str) -> Result<(), Error> {
    if ctx
        .config()
        .image
        .import_methods
        .iter()
        .any(|m| m == method)
    {
        Ok(())
    } else {
        Err(Error::NotFound {
            kind: "import method",
            id: method.to_owned(),
        })
    }
}

pub async fn stage(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    body: ByteStream,
    size: Option<u64>,
    md5: Option<String>,
) -> Result<(), Error> {
    enabled(ctx, "glance-direct")?;
    let m = images::allowed(ctx, auth, id, "image:upload_image").await?;
    // Formats may still be unset: then the import inspects the data.
    let (mut expect, by_quota) = expect_for(ctx, &m, formats(&m).ok()).await?;
    expect.size = size;
    expect.md5 = md5;
    let db = ctx.db();
    start_receiving(db, &m, "uploading").await?;
    let staging = staging(ctx);
    match ingest::ingest(staging.as_ref(), id, body, &expect).await {
        Ok(got) => {
            if image::find(db, id).await?.is_none() {
                // Deleted while it staged: the data must not linger.
                staging.delete(id).await.map_err(Error::internal)?;
                return Err(Error::NotFound {
                    kind: "image",
                    id: id.to_owned(),
                });
            }
            image::set_internal(db, id, STAGE_HOST, Some(&ctx.config().host)).await?;
            tracing::info!(image = %id, size = got.size, "image data staged");
            Ok(())
        }
        Err(e) => {
            image::set_status_if(db, id, "uploading", "queued").await?;
            Err(ingest_error(id, e, by_quota))
        }
    }
}
