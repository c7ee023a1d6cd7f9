//! Reservations: a `select` claim is written as a reservation first (the
//! node, the group, an expiry) and then as allocations, so whatever a
//! crash leaves behind the reaper can find and undo. The caller confirms
//! a claim once its instance is being built (it then holds until
//! released) or releases it; an unconfirmed claim past its expiry is
//! released by the reaper, so a crashed caller leaks no capacity.

use std::time::Duration;

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_service::ServiceContext;

use super::spec::{Host, Spec};
use crate::app::allocation::{self, Claim};
use crate::app::allocation_candidate::Allocation;
use crate::db::{now, reservation};

/// Claims `host` for `consumer`; `Ok(None)` when it no longer fits (a
/// concurrent claim took the room), so the caller tries the next host.
pub async fn claim(
    ctx: &ServiceContext,
    spec: &Spec,
    consumer: &str,
    host: &Host,
    wanted: &Allocation,
) -> Result<Option<Option<DateTime<Utc>>>, Error> {
    let ttl = ctx.config().scheduler.claim_ttl_secs;
    let expires = (!spec.confirmed).then(|| now() + chrono::Duration::seconds(ttl as i64));
    let held = reservation::Model {
        consumer_id: consumer.to_owned(),
        node_uuid: host.node.uuid.clone(),
        group_id: spec.group.as_ref().map(|g| g.0.clone()),
        group_policy: spec.group.as_ref().map(|g| g.1.as_str().to_owned()),
        expires_at: expires,
        created_at: now(),
    };
    let c = Claim {
        consumer: consumer.to_owned(),
        project_id: spec.project_id.clone(),
        user_id: spec.user_id.clone(),
        // A consumer `select` places must be new.
        seen: Some(None),
        consumer_type: Some(spec.consumer_type.clone()),
        wanted: wanted.clone(),
    };
    Ok(super::batch::claim(ctx, c, held).await?.then_some(expires))
}

/// Writes one claim and its reservation on their own: whether it was
/// made (false: the room went to a concurrent claim).
pub(super) async fn one(
    ctx: &ServiceContext,
    c: &Claim,
    held: &reservation::Model,
) -> Result<bool, Error> {
    let reserve: allocation::With<'_> = &|txn| {
        let held = held.clone();
        Box::pin(async move { reservation::insert(txn, held).await })
    };
    match allocation::set_with(ctx, std::slice::from_ref(c), reserve).await {
        Ok(()) => Ok(true),
        Err(Error::CodedConflict { message, .. }) if message.contains("consumer generation") => {
            Err(Error::Conflict(format!(
                "Consumer {} already holds allocations; release it first.",
                c.consumer
            )))
        }
        Err(
            e @ Error::CodedConflict {
                code: reservation::CLAIMED,
                ..
            },
        ) => Err(e),
        // The room went to a concurrent claim: the next node, then.
        Err(Error::Conflict(_) | Error::CodedConflict { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Gives consumers' resources back (whatever of them is still held).
pub async fn release(ctx: &ServiceContext, consumers: &[String]) -> Result<(), Error> {
    for c in consumers {
        match allocation::delete(ctx, c).await {
            Ok(()) | Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        reservation::delete(ctx.db(), c).await?;
    }
    Ok(())
}

/// The allocations and reservation of `from` become `to`'s, replacing
/// what `to` held, in one transaction: a move confirmed (the server now
/// holds what its migration claimed on the target node). Once done,
/// doing it again changes nothing.
pub async fn transfer(ctx: &ServiceContext, from: &str, to: &str) -> Result<(), Error> {
    for _ in 0..5 {
        let src = allocation::of_consumer(ctx, from).await?;
        let Some(owner) = src.consumer.clone().filter(|_| !src.allocations.is_empty()) else {
            // Moved already (or nothing was held): the reservation alone.
            reservation::rename(ctx.db(), from, to).await?;
            return Ok(());
        };
        let dst = allocation::of_consumer(ctx, to).await?;
        let claims = [
            Claim {
                consumer: to.to_owned(),
                project_id: owner.project_id.clone(),
                user_id: owner.user_id.clone(),
                seen: Some(dst.consumer.as_ref().map(|c| c.generation)),
                consumer_type: None,
                wanted: src
                    .allocations
                    .iter()
                    .map(|(p, (_, r))| (p.clone(), r.clone()))
                    .collect(),
            },
            Claim {
                consumer: from.to_owned(),
                project_id: owner.project_id,
                user_id: owner.user_id,
                seen: Some(Some(owner.generation)),
                consumer_type: None,
                wanted: Default::default(),
            },
        ];
        let (f, t) = (from.to_owned(), to.to_owned());
        let rename: allocation::With<'_> = &move |txn| {
            let (f, t) = (f.clone(), t.clone());
            Box::pin(async move { reservation::rename(txn, &f, &t).await })
        };
        match allocation::set_with(ctx, &claims, rename).await {
            Ok(()) => return Ok(()),
            // One of the two changed since read: read again.
            Err(Error::CodedConflict { message, .. })
                if message.contains("consumer generation") => {}
            Err(e) => return Err(e),
        }
    }
    Err(Error::Conflict(format!(
        "The allocations of {from} kept changing; retry."
    )))
}

/// Makes claims permanent; 404 naming the first that is gone (expired
/// and released, or never made): its caller must schedule again.
pub async fn confirm(ctx: &ServiceContext, consumers: &[String]) -> Result<(), Error> {
    for c in consumers {
        let live = reservation::find(ctx.db(), c)
            .await?
            .is_some_and(|r| r.expires_at.is_none_or(|t| t > now()));
        if !live || !reservation::confirm(ctx.db(), c).await? {
            return Err(Error::NotFound {
                kind: "claim",
                id: c.clone(),
            });
        }
    }
    Ok(())
}

/// Releases every unconfirmed claim past its expiry; how many.
pub async fn reap(ctx: &ServiceContext) -> Result<usize, Error> {
    let gone = reservation::expired(ctx.db(), now()).await?;
    let ids: Vec<String> = gone.iter().map(|r| r.consumer_id.clone()).collect();
    if !ids.is_empty() {
        tracing::warn!(claims = ?ids, "releasing claims never confirmed");
        release(ctx, &ids).await?;
    }
    Ok(ids.len())
}

/// When `select` last reaped.
#[derive(Default)]
struct LastReap(std::sync::Mutex<Option<std::time::Instant>>);

/// Reaps before a select, at most once a second (the timer does the
/// rest): a claim that just expired counts as free at once, without a
/// query per select.
pub async fn reap_soon(ctx: &ServiceContext) -> Result<(), Error> {
    let last = ctx.local::<LastReap>();
    {
        let mut at = last.0.lock().unwrap_or_else(|e| e.into_inner());
        if at.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return Ok(());
        }
        *at = Some(std::time::Instant::now());
    }
    reap(ctx).await.map(|_| ())
}

/// Reaps on a timer (a quarter of the claim lifetime, 1 s to 30 s) until
/// the service stops.
pub fn spawn_reaper(ctx: ServiceContext) {
    let ttl = ctx.config().scheduler.claim_ttl_secs;
    let every = Duration::from_secs((ttl / 4).clamp(1, 30));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = ctx.shutdown().cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            if let Err(e) = reap(&ctx).await {
                tracing::error!(error = %virga_common::error::chain(&e), "claim reaper failed");
            }
        }
    });
}
