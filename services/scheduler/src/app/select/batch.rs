//! Group commit for `select`'s claims: the claims of concurrent selects
//! queue here, and each of the writer tasks takes whatever has queued and
//! writes it in one transaction, with a statement per kind of row instead of a round of
//! statements per claim. Each claim is still checked on its own (one
//! without room is answered "no room" and its select tries the next
//! node), and the providers' generations are still bumped
//! compare-and-set, so a concurrent writer elsewhere (another scheduler
//! process, `PUT /allocations`) makes the batch re-read and retry.
//! Whatever the batch cannot settle (a consumer that appeared meanwhile,
//! a claim raced too often) is written claim by claim the careful way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use virga_common::Error;
use virga_db::sea_orm::IntoActiveModel;
use virga_service::ServiceContext;

use super::cache::HostCache;
use crate::app::allocation::{self, Claim};
use crate::app::capacity;
use crate::app::inventory::Inventory;
use crate::db::{self, candidate, consumer, inventory, reservation};

/// Claims written in one transaction at most.
const MAX_BATCH: usize = 64;

/// Writers taking batches from the queue: while one waits on the
/// database, the next batch is being read and written by another. Two
/// batches touching one provider race like any two writers: one retries.
const WRITERS: usize = 2;

/// Retries of a batch that lost a race before it goes claim by claim.
const TRIES: u32 = 3;

/// One claim waiting for the writer: its allocations and reservation,
/// and where to say whether it was made (`false`: no room).
struct Job {
    claim: Claim,
    held: reservation::Model,
    reply: oneshot::Sender<Result<bool, Error>>,
}

#[derive(Default)]
struct Queue(Mutex<Option<mpsc::UnboundedSender<Job>>>);

/// Writes `claim` with its reservation `held` together with whatever
/// other claims are waiting; whether it was made (false: no room left).
pub async fn claim(
    ctx: &ServiceContext,
    claim: Claim,
    held: reservation::Model,
) -> Result<bool, Error> {
    let (reply, answer) = oneshot::channel();
    sender(ctx)
        .send(Job { claim, held, reply })
        .map_err(|_| Error::Unavailable("the scheduler is stopping".into()))?;
    answer
        .await
        .map_err(|_| Error::internal(std::io::Error::other("the claim writer stopped")))?
}

/// The writers' queue, starting them if they are not running.
fn sender(ctx: &ServiceContext) -> mpsc::UnboundedSender<Job> {
    let q = ctx.local::<Queue>();
    let mut slot = q.0.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tx) = slot.as_ref().filter(|tx| !tx.is_closed()) {
        return tx.clone();
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    for _ in 0..WRITERS {
        tokio::spawn(writer(ctx.clone(), rx.clone()));
    }
    *slot = Some(tx.clone());
    tx
}

/// The next batch: the first claim to come, and whatever queued behind it.
async fn next(rx: &tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>) -> Option<Vec<Job>> {
    let mut rx = rx.lock().await;
    let mut jobs = vec![rx.recv().await?];
    while jobs.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(j) => jobs.push(j),
            Err(_) => break,
        }
    }
    Some(jobs)
}

async fn writer(ctx: ServiceContext, rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>>) {
    loop {
        let jobs = tokio::select! {
            _ = ctx.shutdown().cancelled() => return,
            jobs = next(&rx) => match jobs {
                Some(j) => j,
                None => return,
            },
        };
        let results = write(&ctx, &jobs).await;
        for (j, r) in jobs.into_iter().zip(results) {
            let _ = j.reply.send(r);
        }
    }
}

async fn write(ctx: &ServiceContext, jobs: &[Job]) -> Vec<Result<bool, Error>> {
    for n in 0..TRIES {
        match attempt(ctx, jobs).await {
            Ok(Some(out)) => return out,
            Ok(None) => tokio::time::sleep(Duration::from_millis(2 << n)).await,
            Err(e) => {
                tracing::debug!(error = %virga_common::error::chain(&e), "claim batch failed; one by one");
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(jobs.len());
    for j in jobs {
        out.push(super::claim::one(ctx, &j.claim, &j.held).await);
    }
    out
}

/// Checks every claim against what the database holds, then writes the
/// ones with room; `None` when a provider changed meanwhile.
async fn attempt(
    ctx: &ServiceContext,
    jobs: &[Job],
) -> Result<Option<Vec<Result<bool, Error>>>, Error> {
    let db = ctx.db();
    let ids: Vec<&str> = jobs.iter().map(|j| j.claim.consumer.as_str()).collect();
    let mut taken: BTreeSet<String> = consumer::existing(db, &ids).await?.into_iter().collect();
    let touched: Vec<String> = jobs
        .iter()
        .flat_map(|j| j.claim.wanted.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let generations: BTreeMap<String, i64> = candidate::providers(db, &touched)
        .await?
        .into_iter()
        .map(|p| (p.uuid, p.generation))
        .collect();
    let mut stock: BTreeMap<(String, String), (Inventory, i64)> =
        candidate::inventories(db, &touched)
            .await?
            .into_iter()
            .map(|m| {
                (
                    (m.provider_uuid.clone(), m.resource_class.clone()),
                    (Inventory::of(&m), m.used),
                )
            })
            .collect();
    let mut out = Vec::with_capacity(jobs.len());
    let mut accepted = Vec::new();
    for j in jobs {
        let c = &j.claim;
        if !taken.insert(c.consumer.clone()) {
            out.push(Err(Error::Conflict(format!(
                "Consumer {} already holds allocations; release it first.",
                c.consumer
            ))));
            continue;
        }
        if let Some(p) = c.wanted.keys().find(|p| !generations.contains_key(*p)) {
            out.push(Err(Error::BadRequest(format!(
                "Allocation for resource provider '{p}' that does not exist."
            ))));
            continue;
        }
        let fits = c.wanted.iter().all(|(p, amounts)| {
            amounts.iter().all(|(class, n)| {
                stock
                    .get(&(p.clone(), class.clone()))
                    .is_some_and(|(inv, used)| capacity::fits(inv, *used, *n))
            })
        });
        if fits {
            for (p, amounts) in &c.wanted {
                for (class, n) in amounts {
                    if let Some((_, used)) = stock.get_mut(&(p.clone(), class.clone())) {
                        *used += n;
                    }
                }
            }
            accepted.push(j);
        }
        out.push(Ok(fits));
    }
    if accepted.is_empty() {
        return Ok(Some(out));
    }
    let mine: BTreeSet<&String> = accepted
        .iter()
        .flat_map(|j| j.claim.wanted.keys())
        .collect();
    let seen: Vec<(String, i64)> = mine
        .iter()
        .map(|p| ((*p).clone(), generations[*p]))
        .collect();
    let writer = ctx.local::<allocation::SqliteWriter>();
    let _turn = allocation::sqlite_turn(db, &writer).await;
    let txn = virga_db::sea_orm::TransactionTrait::begin(db)
        .await
        .map_err(Error::internal)?;
    if !crate::db::provider::bump_many(&txn, &seen).await? {
        return Ok(None);
    }
    let consumers = accepted.iter().map(|j| {
        let c = &j.claim;
        consumer::new_row(
            &c.consumer,
            &c.project_id,
            &c.user_id,
            c.consumer_type.as_deref(),
        )
    });
    db::insert_all(
        &txn,
        consumers.map(IntoActiveModel::into_active_model).collect(),
    )
    .await?;
    let rows = accepted
        .iter()
        .flat_map(|j| allocation::allocation_rows(&j.claim));
    db::insert_all(&txn, rows.map(IntoActiveModel::into_active_model).collect()).await?;
    let mine: Vec<String> = mine.into_iter().cloned().collect();
    inventory::recount(&txn, &mine).await?;
    let held = accepted.iter().map(|j| j.held.clone().into_active_model());
    db::insert_all(&txn, held.collect()).await?;
    txn.commit().await.map_err(Error::internal)?;
    let claims: Vec<Claim> = accepted.iter().map(|j| j.claim.clone()).collect();
    HostCache::of(ctx).apply_usage(&allocation::delta(&[], &claims));
    Ok(Some(out))
}
