//! A stopped instance's root disk sent to the centre (`export_disk`): the
//! driver writes it as one standalone file under `_export`, and it is
//! `PUT` to the signed upload URL the centre gave (an image of the image
//! service), from where the target node of a resize or migration builds.
//! The file is removed however the upload goes; the centre hears how it
//! went as an `agent.disk.exported` event.

use std::path::Path;

use tokio_util::io::ReaderStream;

use crate::ledger::Desired;
use crate::reconcile::Reconciler;

/// The instances whose disk is being exported now: a second command for
/// one (the centre restarted and asked again) is not run alongside.
static EXPORTING: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<String>>> =
    std::sync::LazyLock::new(Default::default);

/// Marks `instance` as exporting; false if it already is.
pub fn begin(instance: &str) -> bool {
    EXPORTING
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(instance.to_owned())
}

pub fn end(instance: &str) {
    EXPORTING
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(instance);
}

/// Exports `instance`'s disk to `url`; why not, if it could not.
pub async fn export(
    rc: &Reconciler,
    instance: &str,
    url: &str,
    format: &str,
) -> Result<(), String> {
    let known = rc
        .ledger
        .get(instance)
        .await
        .map_err(|e| virga_common::error::chain(&e))?;
    if known.is_none_or(|r| r.desired == Desired::Deleted) {
        return Err(format!("no instance {instance} on this node"));
    }
    let file = rc.exports.join(format!("{instance}.{format}"));
    let r = write_and_send(rc, instance, &file, url, format).await;
    if let Err(e) = tokio::fs::remove_file(&file).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %file.display(), error = %e, "cannot remove an exported disk");
    }
    r
}

async fn write_and_send(
    rc: &Reconciler,
    instance: &str,
    file: &Path,
    url: &str,
    format: &str,
) -> Result<(), String> {
    rc.driver
        .export_disk(instance, file, format)
        .await
        .map_err(|e| virga_common::error::chain(&e))?;
    let f = tokio::fs::File::open(file)
        .await
        .map_err(|e| format!("cannot read the exported disk: {e}"))?;
    let len = f
        .metadata()
        .await
        .map_err(|e| format!("cannot read the exported disk: {e}"))?
        .len();
    let reply = reqwest::Client::new()
        .put(url)
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .header(reqwest::header::CONTENT_LENGTH, len)
        .body(reqwest::Body::wrap_stream(ReaderStream::new(f)))
        .send()
        .await
        .map_err(|e| format!("the upload failed: {}", virga_common::error::chain(&e)))?;
    let status = reply.status();
    if status.is_success() {
        tracing::info!(%instance, bytes = len, "disk exported");
        return Ok(());
    }
    let body = reply.text().await.unwrap_or_default();
    Err(format!("the upload was refused ({status}): {body}"))
}
