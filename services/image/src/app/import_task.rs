//! Import workers: run a task under a renewed lease, record its outcome on
//! the task and the image, and take up tasks whose worker died (a crash, a
//! stopped service) once their lease runs out. Running a task again is
//! safe: the data is re-read from its source and written whole again, and
//! a task whose image is already active is simply marked done.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use virga_common::Error;
use virga_service::ServiceContext;

use super::image_data::{expect_for, finish, formats, store};
use super::import::{Method, TaskInput};
use super::ingest::{self, IngestError};
use super::stage::{STAGE_HOST, staging};
use super::web_download;
use crate::db::{image, task};
use crate::store::ByteStream;

fn lease(ctx: &ServiceContext) -> Duration {
    Duration::from_secs(ctx.config().image.task_lease_secs)
}

fn until(ctx: &ServiceContext) -> chrono::DateTime<Utc> {
    Utc::now() + lease(ctx)
}

/// Claims `t` and runs it in the background.
pub fn spawn(ctx: ServiceContext, t: task::Model) {
    tokio::spawn(async move {
        match task::claim(ctx.db(), &t, until(&ctx)).await {
            Ok(true) => run(&ctx, t).await,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(task = %t.id, error = %virga_common::error::chain(&e), "claiming an import task failed")
            }
        }
    });
}

/// Looks for orphaned tasks now and then every half lease, until shutdown.
pub fn spawn_resumer(ctx: ServiceContext) {
    tokio::spawn(async move {
        loop {
            match task::orphans(ctx.db()).await {
                Ok(found) => {
                    for t in found {
                        // Staged data lives on one host; only it can go on.
                        if t.host.as_ref().is_none_or(|h| *h == ctx.config().host) {
                            tracing::info!(task = %t.id, image = %t.image_id, "taking up an orphaned import");
                            spawn(ctx.clone(), t);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %virga_common::error::chain(&e), "listing orphaned import tasks failed")
                }
            }
            tokio::select! {
                _ = ctx.shutdown().cancelled() => return,
                _ = tokio::time::sleep(lease(&ctx) / 2) => {}
            }
        }
    });
}

/// How an attempt ended.
enum Outcome {
    Done,
    /// The sender's fault: the image goes back to where the user can retry.
    Refused(String),
    /// Ours (a store failure): glance-direct keeps its staged data.
    Failed(String),
}

async fn run(ctx: &ServiceContext, t: task::Model) {
    let input = match serde_json::from_str::<TaskInput>(&t.input) {
        Ok(i) => i,
        Err(e) => {
            let outcome = Outcome::Failed(format!("Unreadable task input: {e}"));
            if let Err(e) = record(ctx, &t, false, outcome).await {
                tracing::error!(task = %t.id, error = %virga_common::error::chain(&e), "recording an import's outcome failed");
            }
            return;
        }
    };
    let direct = input.import_req.method == Method::GlanceDirect;
    let copied = Arc::new(AtomicU64::new(0));
    let work = async {
        let req = input.import_req.clone();
        let outcome = attempt(ctx, &t, input, copied.clone()).await;
        if !matches!(outcome, Outcome::Done) || req.targets.is_empty() {
            return outcome;
        }
        let copy = super::copy::to_stores(
            ctx,
            &t.id,
            &t.image_id,
            &req.targets,
            req.all_stores_must_succeed,
            copied.clone(),
        );
        match copy.await {
            Ok(()) => Outcome::Done,
            Err(why) => Outcome::Failed(why),
        }
    };
    tokio::pin!(work);
    let mut tick = tokio::time::interval(lease(ctx) / 4);
    tick.tick().await;
    let outcome = loop {
        tokio::select! {
            o = &mut work => break o,
            // Stopping mid-way is a crash as far as the task is concerned:
            // its lease runs out and a worker takes it up again.
            _ = ctx.shutdown().cancelled() => return,
            _ = tick.tick() => {
                let msg = format!("Copied {} MiB", copied.load(Ordering::Relaxed) >> 20);
                if let Err(e) = task::renew(ctx.db(), &t.id, until(ctx), &msg).await {
                    tracing::warn!(task = %t.id, error = %virga_common::error::chain(&e), "renewing an import lease failed");
                }
            }
        }
    };
    if let Err(e) = record(ctx, &t, direct, outcome).await {
        tracing::error!(task = %t.id, error = %virga_common::error::chain(&e), "recording an import's outcome failed");
    }
}

/// `direct`: a glance-direct import, whose staged copy a refusal drops and
/// a failure keeps.
async fn record(
    ctx: &ServiceContext,
    t: &task::Model,
    direct: bool,
    outcome: Outcome,
) -> Result<(), Error> {
    let db = ctx.db();
    match outcome {
        Outcome::Done => {
            tracing::info!(task = %t.id, image = %t.image_id, "import finished");
            task::finish(db, &t.id, task::SUCCESS, "Import complete", None).await
        }
        Outcome::Refused(why) => {
            tracing::info!(task = %t.id, image = %t.image_id, %why, "import refused");
            if direct {
                staging(ctx)
                    .delete(&t.image_id)
                    .await
                    .map_err(Error::internal)?;
                image::set_internal(db, &t.image_id, STAGE_HOST, None).await?;
            }
            image::set_status_if(db, &t.image_id, "importing", "queued").await?;
            task::finish(db, &t.id, task::FAILURE, &why, None).await
        }
        Outcome::Failed(why) => {
            let back = if direct { "uploading" } else { "queued" };
            image::set_status_if(db, &t.image_id, "importing", back).await?;
            task::finish(db, &t.id, task::FAILURE, &why, None).await
        }
    }
}

async fn attempt(
    ctx: &ServiceContext,
    t: &task::Model,
    input: TaskInput,
    copied: Arc<AtomicU64>,
) -> Outcome {
    let id = &t.image_id;
    let m = match image::find(ctx.db(), id).await {
        Ok(Some(m)) => m,
        Ok(None) => return Outcome::Refused("The image was deleted".into()),
        Err(_) => return Outcome::Failed("The image could not be read".into()),
    };
    match m.status.as_str() {
        "importing" => {}
        // A previous run finished but died before saying so.
        "active" => return Outcome::Done,
        other => return Outcome::Refused(format!("The image is {other}, not importing")),
    }
    let Ok(fmts) = formats(&m) else {
        return Outcome::Refused("The image's formats are unset".into());
    };
    let (mut expect, by_quota) = match expect_for(ctx, &m, Some(fmts)).await {
        Ok(e) => e,
        // A signature that cannot be checked.
        Err(e @ Error::BadRequest(_)) => return Outcome::Refused(e.to_string()),
        Err(_) => return Outcome::Failed("The project's quota could not be read".into()),
    };
    let source: Result<ByteStream, String> = match input.import_req.method {
        Method::GlanceDirect => staging(ctx)
            .read(id, 0, u64::MAX)
            .await
            .map_err(|e| format!("The staged data is gone: {e}")),
        Method::CopyImage => Err("The image has no data to copy".into()),
        Method::WebDownload {
            uri,
            validation_data,
        } => {
            if let Some(v) = validation_data {
                expect.sha256 = Some(v.os_hash_value);
                expect.md5 = v.checksum;
            }
            let cfg = ctx.config().image.web_download.clone();
            match web_download::check_url(&cfg, &uri) {
                Ok(url) => web_download::open(cfg, url)
                    .await
                    .map_err(|e| virga_common::error::chain(&e).to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    let body = match source {
        Ok(b) => b,
        Err(why) => return Outcome::Refused(why),
    };
    let counted: ByteStream = Box::pin(body.inspect(move |c| {
        if let Ok(c) = c {
            copied.fetch_add(c.len() as u64, Ordering::Relaxed);
        }
    }));
    let store = match store(ctx) {
        Ok(s) => s,
        Err(_) => return Outcome::Failed("The image store is unavailable".into()),
    };
    match ingest::ingest(store.as_ref(), id, counted, &expect).await {
        Ok(got) => match finish(ctx, store.as_ref(), id, "importing", &got).await {
            Ok(()) => {
                if let Err(e) = staging(ctx).delete(id).await {
                    tracing::warn!(image = %id, error = %virga_common::error::chain(&e), "removing staged data failed");
                }
                Outcome::Done
            }
            Err(e) => Outcome::Refused(e.to_string()),
        },
        Err(e @ IngestError::Store(_)) => {
            tracing::error!(image = %id, error = %virga_common::error::chain(&e), "import failed");
            Outcome::Failed("Storing the image data failed".into())
        }
        Err(IngestError::TooLarge { limit }) => {
            Outcome::Refused(super::quota::too_large(limit, by_quota).to_string())
        }
        Err(e) => Outcome::Refused(virga_common::error::chain(&e).to_string()),
    }
}
