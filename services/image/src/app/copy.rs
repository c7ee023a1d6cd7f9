//! Copying an active image to edge sites' stores (Glance's `copy-image`,
//! and imports that name `stores`): site by site, each copy streamed from
//! the central store, hashed on its way, committed, then read back from
//! the site and verified against the image's sha256 before it counts.
//! Each site's state is a row (`queued` → `copying` → `verifying` →
//! `active`, or `failed` with the reason); `os_glance_importing_to_stores`
//! and `os_glance_failed_import` say the same in Glance's words. A task
//! taken up after a crash copies again to every site not yet `active`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use sha2::{Digest, Sha256};
use virga_common::Error;
use virga_db::sea_orm::ConnectionTrait;
use virga_service::ServiceContext;

use super::digests::{Digests, Hash};
use crate::db::image::{self, Model};
use crate::db::location::{self, ACTIVE, COPYING, FAILED, QUEUED, VERIFYING};
use crate::store::Store;

pub const IMPORTING_TO: &str = "os_glance_importing_to_stores";
pub const FAILED_IMPORT: &str = "os_glance_failed_import";

pub fn in_progress(status: &str) -> bool {
    matches!(status, QUEUED | COPYING | VERIFYING)
}

/// Marks the sites a new task is to copy to as queued.
pub async fn queue(
    db: &impl ConnectionTrait,
    id: &str,
    task: &str,
    targets: &[String],
) -> Result<(), Error> {
    if targets.is_empty() {
        return Ok(());
    }
    for s in targets {
        location::set(db, id, s, QUEUED, None, Some(task)).await?;
    }
    image::set_internal(db, id, IMPORTING_TO, Some(&targets.join(","))).await?;
    image::set_internal(db, id, FAILED_IMPORT, None).await
}

/// Copies image `id` to `targets`. Err with the reason when the copy as a
/// whole failed: any site when `must_succeed` (the copies this task made
/// are then removed), every site otherwise.
pub async fn to_stores(
    ctx: &ServiceContext,
    task: &str,
    id: &str,
    targets: &[String],
    must_succeed: bool,
    copied: Arc<AtomicU64>,
) -> Result<(), String> {
    let db = ctx.db();
    let internal = |e: Error| virga_common::error::chain(&e).to_string();
    let Some(m) = image::find(db, id).await.map_err(internal)? else {
        return Err("The image was deleted".into());
    };
    let held = location::of(db, id).await.map_err(internal)?;
    // Sites a previous run of this task (or an earlier task) finished
    // count as done; the rest are copied now.
    let mut left: Vec<String> = targets.to_vec();
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for s in left.clone() {
        let already = held.iter().any(|l| l.store_id == s && l.status == ACTIVE);
        let outcome = if already {
            Ok(true)
        } else {
            copy_one(ctx, task, &m, &s, &copied).await
        };
        match outcome {
            Ok(true) => done.push(s.clone()),
            Ok(false) => return Err("The image was deleted".into()),
            Err(why) => {
                tracing::warn!(image = %id, store = %s, %why, "copying an image to a site failed");
                location::set(db, id, &s, FAILED, Some(&why), Some(task))
                    .await
                    .map_err(internal)?;
                failed.push(s.clone());
            }
        }
        left.retain(|x| *x != s);
        let rest = (!left.is_empty()).then(|| left.join(","));
        image::set_internal(db, id, IMPORTING_TO, rest.as_deref())
            .await
            .map_err(internal)?;
    }
    let failures = (!failed.is_empty()).then(|| failed.join(","));
    image::set_internal(db, id, FAILED_IMPORT, failures.as_deref())
        .await
        .map_err(internal)?;
    if failed.is_empty() || (!must_succeed && !done.is_empty()) {
        return Ok(());
    }
    if must_succeed {
        for s in &done {
            if let Ok(store) = super::stores::site(ctx, s) {
                let _ = store.delete(id).await;
            }
            location::remove(db, id, s).await.map_err(internal)?;
        }
    }
    Err(format!("Copying to {} failed", failed.join(", ")))
}

/// One site's copy: true once it is active, false if the image went.
async fn copy_one(
    ctx: &ServiceContext,
    task: &str,
    m: &Model,
    store_id: &str,
    copied: &AtomicU64,
) -> Result<bool, String> {
    let db = ctx.db();
    let id = &m.id;
    let e = |e: Error| virga_common::error::chain(&e).to_string();
    let target = super::stores::site(ctx, store_id).map_err(e)?;
    if !location::set(db, id, store_id, COPYING, None, Some(task))
        .await
        .map_err(e)?
    {
        return Ok(false);
    }
    let (size, sha) = match (m.size, &m.os_hash_value) {
        (Some(s), Some(h)) => (u64::try_from(s).unwrap_or(0), h.clone()),
        _ => return Err("The image has no data to copy".into()),
    };
    let source = super::image_data::open(ctx, m, 0, size).await.map_err(e)?;
    let mut pending = target
        .begin(id)
        .await
        .map_err(|x| format!("The site's store failed: {x}"))?;
    let written = async {
        let counted = source.inspect(|c| {
            if let Ok(c) = c {
                copied.fetch_add(c.len() as u64, Ordering::Relaxed);
            }
        });
        let mut counted = std::pin::pin!(counted);
        let mut digests = Digests::start(vec![Box::new(Hash(Sha256::new()))]);
        let mut n = 0u64;
        while let Some(c) = counted.next().await {
            let c = c.map_err(|x| format!("Reading the image failed: {x}"))?;
            n += c.len() as u64;
            digests.feed(&c).await;
            pending
                .write(c)
                .await
                .map_err(|x| format!("The site's store failed: {x}"))?;
        }
        check(n, digests.finish().await, size, &sha, "sent")
    }
    .await;
    if let Err(why) = written {
        pending.abort().await;
        return Err(why);
    }
    pending
        .commit()
        .await
        .map_err(|x| format!("The site's store failed: {x}"))?;
    if !location::set(db, id, store_id, VERIFYING, None, Some(task))
        .await
        .map_err(e)?
    {
        let _ = target.delete(id).await;
        return Ok(false);
    }
    if let Err(why) = verify(target.as_ref(), id, size, &sha).await {
        let _ = target.delete(id).await;
        return Err(why);
    }
    if !location::set(db, id, store_id, ACTIVE, None, Some(task))
        .await
        .map_err(e)?
    {
        let _ = target.delete(id).await;
        return Ok(false);
    }
    tracing::info!(image = %id, store = %store_id, size, "image copied to a site store");
    Ok(true)
}

fn check(n: u64, hashes: Vec<Vec<u8>>, size: u64, sha: &str, what: &str) -> Result<(), String> {
    let got = super::ingest::hex(&hashes.concat());
    if n != size {
        return Err(format!(
            "The data {what} was {n} bytes, not the image's {size}"
        ));
    }
    if !got.eq_ignore_ascii_case(sha) {
        return Err(format!(
            "The data {what} hashes to sha256 {got}, not the image's {sha}"
        ));
    }
    Ok(())
}

/// Reads the site's copy back and checks it is the image.
async fn verify(store: &dyn Store, id: &str, size: u64, sha: &str) -> Result<(), String> {
    let mut back = store
        .read(id, 0, u64::MAX)
        .await
        .map_err(|x| format!("Reading the site's copy back failed: {x}"))?;
    let mut digests = Digests::start(vec![Box::new(Hash(Sha256::new()))]);
    let mut n = 0u64;
    while let Some(c) = back.next().await {
        let c = c.map_err(|x| format!("Reading the site's copy back failed: {x}"))?;
        n += c.len() as u64;
        digests.feed(&c).await;
    }
    check(
        n,
        digests.finish().await,
        size,
        sha,
        "read back from the site",
    )
}
