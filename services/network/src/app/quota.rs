//! Neutron's quotas: a limit per project and resource (the configured
//! default unless an admin set one; -1 unlimited), checked when a
//! resource is made. Under a limit, creations of one resource in one
//! project take a lock row first and count after it, so concurrent ones
//! cannot both take the last unit; unlimited ones take no lock.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_common::config::NetworkQuotaConfig;
use virga_db::sea_orm::ConnectionTrait;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::db::quota;

/// The resources with quotas, in the order Neutron lists them.
pub const RESOURCES: &[&str] = &[
    "floatingip",
    "network",
    "port",
    "router",
    "security_group",
    "security_group_rule",
    "subnet",
];

pub fn defaults(cfg: &NetworkQuotaConfig) -> BTreeMap<String, i64> {
    [
        ("floatingip", cfg.floatingip),
        ("network", cfg.network),
        ("port", cfg.port),
        ("router", cfg.router),
        ("security_group", cfg.security_group),
        ("security_group_rule", cfg.security_group_rule),
        ("subnet", cfg.subnet),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The project's limits: the defaults, with what an admin set over them.
pub async fn limits(
    db: &impl ConnectionTrait,
    cfg: &NetworkQuotaConfig,
    project: &str,
) -> Result<BTreeMap<String, i64>, Error> {
    let mut out = defaults(cfg);
    out.extend(quota::of_project(db, project).await?);
    Ok(out)
}

/// A project's limits, read before the creating transaction begins: a
/// transaction must not wait for a second pooled connection while it holds
/// one (on SQLite it holds the write lock, see `virga_db::begin_write`). A
/// limit changed meanwhile is as good as one changed just before.
pub struct Limits {
    project: String,
    limits: BTreeMap<String, i64>,
}

impl Limits {
    pub async fn read(ctx: &ServiceContext, project: &str) -> Result<Limits, Error> {
        Ok(Limits {
            project: project.to_owned(),
            limits: limits(ctx.db(), &ctx.config().network.quota, project).await?,
        })
    }

    /// Inside the creating transaction: room for `n` more of `resource`,
    /// or 409 OverQuota in Neutron's words.
    pub async fn check(
        &self,
        db: &impl ConnectionTrait,
        resource: &str,
        n: u64,
    ) -> Result<(), Error> {
        let limit = self.limits.get(resource).copied().unwrap_or(-1);
        if limit < 0 {
            return Ok(());
        }
        quota::take_lock(db, &self.project, resource).await?;
        let used = quota::count(db, resource, &self.project).await?;
        if used + n > limit as u64 {
            return Err(super::coded(
                "OverQuota",
                format!("Quota exceeded for resources: ['{resource}']."),
            ));
        }
        Ok(())
    }
}

fn target(project: &str) -> Target {
    Target::new().with("project_id", project.to_owned())
}

/// Another project's quotas are not there for the caller (404, as for any
/// other project's resource), unless it is an admin.
fn visible(auth: &Auth, project: &str) -> Result<(), Error> {
    auth.enforce_visible("network:get_quota", &target(project), "Project", project)
}

pub fn check_visible(auth: &Auth, project: &str) -> Result<(), Error> {
    visible(auth, project)
}

pub async fn show(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
) -> Result<BTreeMap<String, i64>, Error> {
    visible(auth, project)?;
    limits(ctx.db(), &ctx.config().network.quota, project).await
}

/// Each resource's limit, use and reservations (none are held apart).
pub async fn details(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
) -> Result<BTreeMap<String, (i64, u64)>, Error> {
    visible(auth, project)?;
    let limits = limits(ctx.db(), &ctx.config().network.quota, project).await?;
    let mut out = BTreeMap::new();
    for (resource, limit) in limits {
        let used = quota::count(ctx.db(), &resource, project).await?;
        out.insert(resource, (limit, used));
    }
    Ok(out)
}

pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
) -> Result<Vec<(String, BTreeMap<String, i64>)>, Error> {
    auth.enforce("network:get_quota", &Target::new().with("project_id", ""))?;
    let cfg = &ctx.config().network.quota;
    Ok(quota::all(ctx.db())
        .await?
        .into_iter()
        .map(|(p, set)| {
            let mut l = defaults(cfg);
            l.extend(set);
            (p, l)
        })
        .collect())
}

pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
    changes: BTreeMap<String, i64>,
) -> Result<BTreeMap<String, i64>, Error> {
    visible(auth, project)?;
    auth.enforce("network:update_quota", &target(project))?;
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    for (resource, limit) in &changes {
        quota::set(&txn, project, resource, *limit).await?;
    }
    txn.commit().await.map_err(Error::internal)?;
    tracing::info!(project, ?changes, "quota set");
    limits(ctx.db(), &ctx.config().network.quota, project).await
}

pub async fn reset(ctx: &ServiceContext, auth: &Auth, project: &str) -> Result<(), Error> {
    visible(auth, project)?;
    auth.enforce("network:delete_quota", &target(project))?;
    quota::reset(ctx.db(), project).await
}
