//! The host cache: this scheduler process's one `Snapshot` of the nodes,
//! kept where app code reaches it through the service context. Writes
//! that change what `select` looks at (providers, inventories, traits,
//! nodes, sites) invalidate it and the next `select` reads it again
//! before choosing; claims and releases adjust its usage in place; a
//! snapshot older than `scheduler.host_cache_secs` is re-read in the
//! background, which bounds how long changes made by another scheduler
//! process go unseen.
//!
//! Usage a claim applies while a reload is reading can be missed by the
//! new snapshot; it only misleads until the next reload, and the claim
//! in the database is what holds the room.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use virga_common::Error;
use virga_service::ServiceContext;

use super::host_state::Snapshot;
use crate::db::node;

#[derive(Debug, Default)]
pub struct HostCache {
    snapshot: RwLock<Option<Snapshot>>,
    dirty: AtomicBool,
    refreshing: AtomicBool,
    loading: tokio::sync::Mutex<()>,
}

impl HostCache {
    pub fn of(ctx: &ServiceContext) -> Arc<HostCache> {
        ctx.local::<HostCache>()
    }

    /// Runs `f` on a snapshot that reflects every change made through
    /// this process so far.
    pub async fn read<R>(
        self: &Arc<Self>,
        ctx: &ServiceContext,
        f: impl FnOnce(&Snapshot) -> R,
    ) -> Result<R, Error> {
        if self.dirty.load(Ordering::SeqCst) || self.age().is_none() {
            let _one = self.loading.lock().await;
            // Whoever held the lock may have loaded it already.
            if self.dirty.swap(false, Ordering::SeqCst) || self.age().is_none() {
                match Snapshot::load(ctx.db()).await {
                    Ok(s) => *self.write() = Some(s),
                    Err(e) => {
                        self.dirty.store(true, Ordering::SeqCst);
                        return Err(e);
                    }
                }
            }
        } else if self
            .age()
            .is_some_and(|a| a > Duration::from_secs(ctx.config().scheduler.host_cache_secs))
        {
            self.refresh(ctx);
        }
        let guard = self.snapshot.read().unwrap_or_else(|e| e.into_inner());
        let snap = guard.as_ref().ok_or_else(|| {
            Error::internal(std::io::Error::other("host cache empty after loading"))
        })?;
        Ok(f(snap))
    }

    fn age(&self) -> Option<Duration> {
        let guard = self.snapshot.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(|s| s.loaded_at.elapsed())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Option<Snapshot>> {
        self.snapshot.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-reads the snapshot in the background (once at a time); selects
    /// meanwhile use the one they have.
    fn refresh(self: &Arc<Self>, ctx: &ServiceContext) {
        if self.refreshing.swap(true, Ordering::SeqCst) {
            return;
        }
        let (me, ctx) = (self.clone(), ctx.clone());
        tokio::spawn(async move {
            {
                let _one = me.loading.lock().await;
                match Snapshot::load(ctx.db()).await {
                    Ok(s) => *me.write() = Some(s),
                    Err(e) => tracing::warn!(
                        error = %virga_common::error::chain(&e),
                        "host cache refresh failed; keeping the older one"
                    ),
                }
            }
            me.refreshing.store(false, Ordering::SeqCst);
        });
    }

    /// Something `select` looks at changed: read everything again first.
    pub fn invalidate(&self) {
        self.dirty.store(true, Ordering::SeqCst);
    }

    /// Allocations changed by `delta` (provider → class → amount).
    pub fn apply_usage(&self, delta: &BTreeMap<String, BTreeMap<String, i64>>) {
        if let Some(s) = self.write().as_mut() {
            s.apply_usage(delta);
        }
    }

    /// A node reported (heartbeat): its health and cache contents.
    pub fn apply_node(&self, n: node::Model) {
        let known = self.write().as_mut().is_none_or(|s| s.apply_node(n));
        if !known {
            self.invalidate();
        }
    }
}

/// Invalidates `ctx`'s host cache (for the app functions that write).
pub fn changed(ctx: &ServiceContext) {
    HostCache::of(ctx).invalidate();
}
