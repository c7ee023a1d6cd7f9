//! Where nodes read an image's data (Glance 2.17's service-only
//! `GET /v2/images/{id}/locations`): each edge site's store holding an
//! active copy, at the URL the site's nodes reach it by, and the central
//! store last, as a signed download URL of this service.
//!
//! A signed URL (as Swift's TempURL) needs no token: an HMAC-SHA256 over
//! the image id, its sha256 and an expiry, under a key every image service
//! of the cloud shares. It serves exactly that content until it expires,
//! so agents fetch images without holding credentials.

use std::sync::{Arc, OnceLock};

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::db::{image, location};

/// One place an image's data can be read from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Location {
    pub url: String,
    /// `{"store": <store id>}`, as Glance's.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

/// Image `id` for a caller with the `service` role. Services see every
/// image; anyone else learns nothing of an image they may not see (404),
/// and is refused one they may (403).
async fn for_service(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<image::Model, Error> {
    let m = image::find(ctx.db(), id)
        .await?
        .ok_or_else(|| Error::NotFound {
            kind: "image",
            id: id.to_owned(),
        })?;
    let target = super::image::target(ctx, auth, &m).await?;
    if !auth.allows("image:fetch_image_location", &target) {
        super::image::visible(ctx, auth, id).await?;
        auth.enforce("image:fetch_image_location", &target)?;
    }
    Ok(m)
}

/// The image's locations, sites first, for a caller with the `service`
/// role (403 otherwise, as Glance; 404 for an image the caller may not
/// see); none while it has no data.
pub async fn list(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Vec<Location>, Error> {
    let m = for_service(ctx, auth, id).await?;
    let Some(sha) = m.os_hash_value.clone().filter(|_| m.status == "active") else {
        return Ok(vec![]);
    };
    let cfg = &ctx.config().image;
    let mut out = Vec::new();
    for l in location::of(ctx.db(), id).await? {
        let url = cfg
            .stores
            .get(&l.store_id)
            .and_then(|s| s.node_url.as_ref());
        if let (location::ACTIVE, Some(url)) = (l.status.as_str(), url) {
            out.push(Location {
                url: format!("{}/{id}", url.trim_end_matches('/')),
                metadata: serde_json::json!({ "store": l.store_id }),
            });
        }
    }
    let expires = chrono::Utc::now().timestamp() + cfg.download_url_secs as i64;
    let signature = sign(&key(ctx)?, id, &sha, expires);
    out.push(Location {
        url: format!(
            "{}/v2/images/{id}/signed-file?expires={expires}&signature={signature}",
            ctx.public_url()
        ),
        metadata: serde_json::json!({ "store": cfg.store_id }),
    });
    Ok(out)
}

/// The image a signed URL names, if its signature holds and it has not
/// expired; 403 otherwise, saying which.
pub async fn signed(
    ctx: &ServiceContext,
    id: &str,
    expires: i64,
    signature: &str,
) -> Result<image::Model, Error> {
    let refused = |why: &str| Error::Forbidden(format!("This download URL {why}."));
    if expires < chrono::Utc::now().timestamp() {
        return Err(refused("has expired"));
    }
    let m = image::find(ctx.db(), id).await?;
    let sig = hex_decode(signature);
    let valid = match (&m, &sig) {
        (Some(m), Some(sig)) => {
            let sha = m.os_hash_value.as_deref().unwrap_or("");
            let mut mac = mac(&key(ctx)?);
            mac.update(message(id, sha, expires).as_bytes());
            mac.verify_slice(sig).is_ok()
        }
        _ => false,
    };
    match m {
        Some(m) if valid => Ok(m),
        _ => Err(refused("is not valid")),
    }
}

/// A signed URL that uploads the data of the queued image `id` (a node
/// exporting a server's disk holds no token), and when it expires; for
/// the `service` role only (403), 409 unless the image is queued.
pub async fn upload_url(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
) -> Result<(String, i64), Error> {
    let m = for_service(ctx, auth, id).await?;
    // A service fills its own images only (uploads by URL count against
    // no quota: not a way into a tenant's).
    if m.owner.is_none() || m.owner.as_deref() != auth.claims().project_id() {
        return Err(Error::Forbidden(format!(
            "Image {id} is not this service's own."
        )));
    }
    if m.status != "queued" {
        return Err(Error::Conflict(format!(
            "Image {id} is {}: only a queued image takes data.",
            m.status
        )));
    }
    let expires = chrono::Utc::now().timestamp() + ctx.config().image.download_url_secs as i64;
    let signature = sign_as(&key(ctx)?, &put_message(id, expires));
    let url = format!(
        "{}/v2/images/{id}/signed-file?expires={expires}&signature={signature}",
        ctx.public_url()
    );
    Ok((url, expires))
}

/// The queued image a signed upload URL names, if its signature holds
/// and it has not expired; 403 otherwise.
pub async fn signed_upload(
    ctx: &ServiceContext,
    id: &str,
    expires: i64,
    signature: &str,
) -> Result<image::Model, Error> {
    let refused = |why: &str| Error::Forbidden(format!("This upload URL {why}."));
    if expires < chrono::Utc::now().timestamp() {
        return Err(refused("has expired"));
    }
    let valid = hex_decode(signature).is_some_and(|sig| {
        key(ctx).is_ok_and(|k| {
            let mut mac = mac(&k);
            mac.update(put_message(id, expires).as_bytes());
            mac.verify_slice(&sig).is_ok()
        })
    });
    match image::find(ctx.db(), id).await? {
        Some(m) if valid => Ok(m),
        _ => Err(refused("is not valid")),
    }
}

fn message(id: &str, sha256: &str, expires: i64) -> String {
    format!("GET\n{id}\n{sha256}\n{expires}")
}

/// An upload's: no content to bind yet, and a method no download shares.
fn put_message(id: &str, expires: i64) -> String {
    format!("PUT\n{id}\n{expires}")
}

fn sign_as(key: &[u8], message: &str) -> String {
    let mut mac = mac(key);
    mac.update(message.as_bytes());
    crate::app::ingest::hex(&mac.finalize().into_bytes())
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length")
}

fn sign(key: &[u8], id: &str, sha256: &str, expires: i64) -> String {
    sign_as(key, &message(id, sha256, expires))
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The signing key: configured, or made once and kept in the data dir.
fn key(ctx: &ServiceContext) -> Result<Arc<Vec<u8>>, Error> {
    #[derive(Default)]
    struct Key(OnceLock<Arc<Vec<u8>>>);
    let slot = ctx.local::<Key>();
    if let Some(k) = slot.0.get() {
        return Ok(k.clone());
    }
    let k = match &ctx.config().image.download_url_key {
        Some(k) => k.as_bytes().to_vec(),
        None => stored_key(&ctx.config().data_dir).map_err(Error::internal)?,
    };
    Ok(slot.0.get_or_init(|| Arc::new(k)).clone())
}

fn stored_key(data_dir: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join("image-download-url.key");
    match std::fs::read_to_string(&path) {
        Ok(k) if k.trim().len() >= 32 => return Ok(k.trim().as_bytes().to_vec()),
        Ok(_) => {
            return Err(std::io::Error::other(format!(
                "{} is too short; remove it to make a new key",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(std::io::Error::other)?;
    let k = crate::app::ingest::hex(&raw);
    std::fs::create_dir_all(data_dir)?;
    // Two services starting at once: the first to create it wins.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut f) => {
            f.write_all(k.as_bytes())?;
            f.sync_all()?;
            Ok(k.into_bytes())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => stored_key(data_dir),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_the_image_its_content_and_the_expiry() {
        let k = b"0123456789abcdef0123456789abcdef";
        let s = sign(k, "img", "aa", 100);
        assert_eq!(s.len(), 64);
        assert_eq!(s, sign(k, "img", "aa", 100));
        for other in [
            sign(k, "img2", "aa", 100),
            sign(k, "img", "ab", 100),
            sign(k, "img", "aa", 101),
            sign(b"another key of enough length....", "img", "aa", 100),
            sign_as(k, &put_message("img", 100)),
        ] {
            assert_ne!(s, other);
        }
        assert_eq!(hex_decode("0aff"), Some(vec![10, 255]));
        assert_eq!(hex_decode("0af"), None);
        assert_eq!(hex_decode("zz"), None);
    }

    #[test]
    fn the_stored_key_is_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = stored_key(dir.path()).unwrap();
        assert_eq!(a, stored_key(dir.path()).unwrap());
        std::fs::write(dir.path().join("image-download-url.key"), "short").unwrap();
        assert!(stored_key(dir.path()).is_err());
    }
}
