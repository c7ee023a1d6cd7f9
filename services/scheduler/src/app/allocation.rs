//! Allocations: claiming resources for consumers, all or nothing. A claim
//! reads each provider's generation, inventory and usage, checks every
//! amount (`capacity`), then writes in one transaction that first bumps
//! every touched provider's generation and each consumer's generation
//! compare-and-set: a concurrent claim on the same provider or consumer
//! makes one of them retry on fresh numbers, so two claims can never
//! together over-commit a node or lose each other's update.

use std::collections::{BTreeMap, BTreeSet};
use std::pin::Pin;
use std::time::Duration;

use virga_common::Error;
use virga_db::sea_orm::{DatabaseTransaction, DbBackend};
use virga_service::ServiceContext;

use super::capacity;
use super::inventory::Inventory;
use crate::db::{allocation as db, consumer, inventory, now, provider};

/// Provider uuid → class → amount.
pub type Wanted = BTreeMap<String, BTreeMap<String, i64>>;

/// Placement's project and user for consumers written before 1.8.
pub const INCOMPLETE: &str = "00000000-0000-0000-0000-000000000000";

/// One consumer's new allocations (empty `wanted`: none).
#[derive(Debug, Clone)]
pub struct Claim {
    pub consumer: String,
    pub project_id: String,
    pub user_id: String,
    /// From 1.28, the consumer generation the caller saw (`None`: it
    /// believes the consumer new); before 1.28 nothing is checked.
    pub seen: Option<Option<i64>>,
    /// 1.38: the consumer's type (`None`: left as it is, or unset for a
    /// new consumer).
    pub consumer_type: Option<String>,
    pub wanted: Wanted,
}

/// A consumer's allocations as shown.
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// Provider → (its generation, class → amount).
    pub allocations: BTreeMap<String, (i64, BTreeMap<String, i64>)>,
    pub consumer: Option<consumer::Model>,
}

/// Retries of a claim that lost a race before it answers 409.
const TRIES: u32 = 10;

enum Attempt {
    Done,
    Raced,
}

/// Replaces each claim's consumer's allocations, all claims or none.
pub async fn set(ctx: &ServiceContext, claims: &[Claim]) -> Result<(), Error> {
    set_with(ctx, claims, &|_| Box::pin(async { Ok(()) })).await
}

/// More to write in a claim's transaction.
pub type With<'x> = &'x (
        dyn for<'t> Fn(
    &'t DatabaseTransaction,
) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 't>>
            + Send
            + Sync
    );

/// `set`, also writing what `with` writes in the same transaction (a
/// `select` claim's reservation: both are there or neither).
pub async fn set_with(ctx: &ServiceContext, claims: &[Claim], with: With<'_>) -> Result<(), Error> {
    for n in 0..TRIES {
        if let Attempt::Done = attempt(ctx, claims, with).await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5 << n.min(5))).await;
    }
    Err(concurrent(
        "allocations kept losing to concurrent changes; retry.".into(),
    ))
}

fn concurrent(message: String) -> Error {
    Error::CodedConflict {
        code: "placement.concurrent_update",
        message,
    }
}

fn show(g: Option<i64>) -> String {
    g.map_or("null".into(), |g| g.to_string())
}

/// SQLite has one writer at a time and makes the others poll for the
/// lock with growing sleeps; claims of one process queue here instead.
#[derive(Default)]
pub(crate) struct SqliteWriter(tokio::sync::Mutex<()>);

/// On SQLite, this process's turn to write (held until dropped).
pub(crate) async fn sqlite_turn<'w>(
    db: &virga_db::sea_orm::DatabaseConnection,
    writer: &'w SqliteWriter,
) -> Option<tokio::sync::MutexGuard<'w, ()>> {
    match db.get_database_backend() {
        DbBackend::Sqlite => Some(writer.0.lock().await),
        _ => None,
    }
}

async fn attempt(ctx: &ServiceContext, claims: &[Claim], with: With<'_>) -> Result<Attempt, Error> {
    let db = ctx.db();
    let mut rows = Vec::new();
    let mut old = Vec::new();
    for c in claims {
        let row = consumer::find(db, &c.consumer).await?;
        let actual = row.as_ref().map(|r| r.generation);
        if let Some(expected) = c.seen
            && expected != actual
        {
            return Err(concurrent(format!(
                "consumer generation conflict - expected {} but got {} (consumer {})",
                show(expected),
                show(actual),
                c.consumer
            )));
        }
        if row.is_some() {
            old.extend(db::of_consumer(db, &c.consumer).await?);
        }
        rows.push(row);
    }
    let mut touched: BTreeSet<String> = old.iter().map(|a| a.provider_uuid.clone()).collect();
    touched.extend(claims.iter().flat_map(|c| c.wanted.keys().cloned()));
    let mut seen = Vec::new();
    for p in &touched {
        let Some(prov) = provider::find(db, p).await? else {
            return Err(Error::BadRequest(format!(
                "Allocation for resource provider '{p}' that does not exist."
            )));
        };
        seen.push((p.clone(), prov.generation));
        if !claims.iter().any(|c| c.wanted.contains_key(p)) {
            continue;
        }
        let rows = inventory::of(db, p).await?;
        let invs: BTreeMap<String, Inventory> = rows
            .iter()
            .map(|m| (m.resource_class.clone(), Inventory::of(m)))
            .collect();
        let mut used: BTreeMap<String, i64> = rows
            .iter()
            .map(|m| (m.resource_class.clone(), m.used))
            .collect();
        for a in old.iter().filter(|a| a.provider_uuid == *p) {
            *used.entry(a.resource_class.clone()).or_insert(0) -= a.used;
        }
        for (class, amount) in claims.iter().filter_map(|c| c.wanted.get(p)).flatten() {
            let inv = invs.get(class).ok_or_else(|| {
                Error::Conflict(format!(
                    "Unable to allocate inventory: Inventory for '{class}' on resource provider '{p}' invalid."
                ))
            })?;
            let now_used = used.entry(class.clone()).or_insert(0);
            capacity::check(class, p, inv, *now_used, *amount).map_err(Error::Conflict)?;
            *now_used += amount;
        }
    }
    let writer = ctx.local::<SqliteWriter>();
    let _turn = sqlite_turn(db, &writer).await;
    let txn = virga_db::begin_write(db).await.map_err(Error::internal)?;
    for (p, g) in &seen {
        if !provider::bump(&txn, p, *g).await? {
            return Ok(Attempt::Raced);
        }
    }
    for (c, row) in claims.iter().zip(&rows) {
        if !write(&txn, c, row.as_ref()).await? {
            return Ok(Attempt::Raced);
        }
    }
    let touched: Vec<String> = touched.into_iter().collect();
    inventory::recount(&txn, &touched).await?;
    with(&txn).await?;
    txn.commit().await.map_err(Error::internal)?;
    super::select::cache::HostCache::of(ctx).apply_usage(&delta(&old, claims));
    Ok(Attempt::Done)
}

/// What a committed change did to usage: provider → class → amount.
pub(crate) fn delta(old: &[db::Model], claims: &[Claim]) -> Wanted {
    let mut out = Wanted::new();
    for a in old {
        *out.entry(a.provider_uuid.clone())
            .or_default()
            .entry(a.resource_class.clone())
            .or_insert(0) -= a.used;
    }
    for (p, amounts) in claims.iter().flat_map(|c| &c.wanted) {
        for (class, n) in amounts {
            *out.entry(p.clone())
                .or_default()
                .entry(class.clone())
                .or_insert(0) += n;
        }
    }
    out
}

/// Writes claim `c` whose consumer row was `row` when read: the consumer
/// created, bumped or (left with nothing) deleted compare-and-set, and
/// its allocations replaced; false when the consumer changed meanwhile.
pub(crate) async fn write(
    txn: &DatabaseTransaction,
    c: &Claim,
    row: Option<&consumer::Model>,
) -> Result<bool, Error> {
    let ok = match (row, c.wanted.is_empty()) {
        (None, true) => true,
        (None, false) => {
            let kind = c.consumer_type.as_deref();
            consumer::insert(txn, &c.consumer, &c.project_id, &c.user_id, kind).await?
        }
        (Some(r), true) => consumer::delete(txn, &c.consumer, r.generation).await?,
        (Some(r), false) => {
            let (p, u, kind) = (&c.project_id, &c.user_id, c.consumer_type.as_deref());
            consumer::bump(txn, &c.consumer, r.generation, p, u, kind).await?
        }
    };
    if ok {
        // Allocations always have their consumer's row.
        db::replace(txn, &c.consumer, row.is_some(), allocation_rows(c)).await?;
    }
    Ok(ok)
}

pub(crate) fn allocation_rows(c: &Claim) -> Vec<db::Model> {
    c.wanted
        .iter()
        .flat_map(|(p, amounts)| {
            amounts.iter().map(move |(class, used)| db::Model {
                consumer_id: c.consumer.clone(),
                provider_uuid: p.clone(),
                resource_class: class.clone(),
                used: *used,
                created_at: now(),
            })
        })
        .collect()
}

/// A consumer's allocations by provider, and the consumer.
pub async fn of_consumer(ctx: &ServiceContext, consumer_id: &str) -> Result<Held, Error> {
    let mut out = Held {
        consumer: consumer::find(ctx.db(), consumer_id).await?,
        ..Held::default()
    };
    for a in db::of_consumer(ctx.db(), consumer_id).await? {
        if !out.allocations.contains_key(&a.provider_uuid) {
            let g = provider::find(ctx.db(), &a.provider_uuid)
                .await?
                .map_or(0, |p| p.generation);
            out.allocations
                .insert(a.provider_uuid.clone(), (g, BTreeMap::new()));
        }
        if let Some((_, r)) = out.allocations.get_mut(&a.provider_uuid) {
            r.insert(a.resource_class, a.used);
        }
    }
    Ok(out)
}

/// Removes a consumer's allocations; 404 when it has none.
pub async fn delete(ctx: &ServiceContext, consumer_id: &str) -> Result<(), Error> {
    let Some(c) = consumer::find(ctx.db(), consumer_id).await? else {
        return Err(Error::NotFound {
            kind: "allocations",
            id: format!("for consumer {consumer_id}"),
        });
    };
    let claim = Claim {
        consumer: c.uuid,
        project_id: c.project_id,
        user_id: c.user_id,
        seen: None,
        consumer_type: None,
        wanted: Wanted::new(),
    };
    set(ctx, &[claim]).await
}

/// A provider's allocations by consumer, and its generation.
pub async fn of_provider(
    ctx: &ServiceContext,
    uuid: &str,
) -> Result<(BTreeMap<String, BTreeMap<String, i64>>, i64), Error> {
    let p = super::resource_provider::get(ctx, uuid).await?;
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for a in db::of_provider(ctx.db(), uuid).await? {
        out.entry(a.consumer_id)
            .or_default()
            .insert(a.resource_class, a.used);
    }
    Ok((out, p.generation))
}

/// What is used of each class the provider has inventory of, and its
/// generation.
pub async fn usages(
    ctx: &ServiceContext,
    uuid: &str,
) -> Result<(BTreeMap<String, i64>, i64), Error> {
    let p = super::resource_provider::get(ctx, uuid).await?;
    // Allocated inventory cannot be removed, so every allocated class has
    // a row, and the row keeps what is allocated of it.
    let out: BTreeMap<String, i64> = inventory::of(ctx.db(), uuid)
        .await?
        .into_iter()
        .map(|i| (i.resource_class, i.used))
        .collect();
    Ok((out, p.generation))
}

/// What a project's (and optionally one user's) consumers hold (1.9).
pub async fn project_usages(
    ctx: &ServiceContext,
    project: &str,
    user: Option<&str>,
) -> Result<BTreeMap<String, i64>, Error> {
    let (used, _) = consumer::usages(ctx.db(), project, user, &consumer::Kind::Any).await?;
    Ok(used)
}

/// The name 1.38 shows for consumers never given a type.
pub const UNKNOWN_TYPE: &str = "unknown";

/// 1.38: what a project's (and optionally one user's) consumers hold by
/// consumer type, each with how many consumers there are: of one type,
/// of all (`all`), or of those never given one (`unknown`).
pub async fn usages_by_type(
    ctx: &ServiceContext,
    project: &str,
    user: Option<&str>,
    only: Option<&str>,
) -> Result<BTreeMap<String, (BTreeMap<String, i64>, u64)>, Error> {
    let kinds: Vec<(String, consumer::Kind)> = match only {
        Some("all") => vec![("all".into(), consumer::Kind::Any)],
        Some(UNKNOWN_TYPE) => vec![(UNKNOWN_TYPE.into(), consumer::Kind::Unknown)],
        Some(k) => vec![(k.into(), consumer::Kind::Named(k.into()))],
        None => consumer::kinds(ctx.db(), project, user)
            .await?
            .into_iter()
            .map(|k| match k {
                None => (UNKNOWN_TYPE.into(), consumer::Kind::Unknown),
                Some(k) => (k.clone(), consumer::Kind::Named(k)),
            })
            .collect(),
    };
    let mut out = BTreeMap::new();
    for (name, kind) in kinds {
        let (used, count) = consumer::usages(ctx.db(), project, user, &kind).await?;
        if count > 0 {
            out.insert(name, (used, count));
        }
    }
    Ok(out)
}
