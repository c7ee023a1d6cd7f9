//! Quota sets, as Nova 2.1 shows them: each project's limits (the
//! configured defaults, with what an admin set over them; -1 unlimited),
//! read by the project's readers, set and reverted by admins. Key pairs
//! are limited per user, at the project's `key_pairs`. The four network
//! resources Nova 2.1 still lists (`fixed_ips`, `floating_ips`,
//! `security_groups`, `security_group_rules`) are kept and shown but
//! enforced by the network service's own quotas, as with Nova on Neutron.

use std::collections::BTreeMap;

use serde_json::Value;
use virga_common::Error;
use virga_common::config::ComputeQuotaConfig;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::input;
use crate::db::quota;

/// Every resource of a 2.1 quota set with its default.
pub fn defaults(cfg: &ComputeQuotaConfig) -> BTreeMap<String, i64> {
    [
        ("cores", cfg.cores),
        ("fixed_ips", -1),
        ("floating_ips", 10),
        (
            "injected_file_content_bytes",
            cfg.injected_file_content_bytes,
        ),
        ("injected_file_path_bytes", cfg.injected_file_path_bytes),
        ("injected_files", cfg.injected_files),
        ("instances", cfg.instances),
        ("key_pairs", cfg.key_pairs),
        ("metadata_items", cfg.metadata_items),
        ("ram", cfg.ram),
        ("security_group_rules", 20),
        ("security_groups", 10),
        ("server_group_members", cfg.server_group_members),
        ("server_groups", cfg.server_groups),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The project's limits.
pub async fn limits(ctx: &ServiceContext, project: &str) -> Result<BTreeMap<String, i64>, Error> {
    let mut out = defaults(&ctx.config().compute.quota);
    out.extend(quota::of_project(ctx.db(), project).await?);
    Ok(out)
}

/// A resource's limit for the project (or the default, without one);
/// `None` is unlimited.
pub async fn limit(
    ctx: &ServiceContext,
    project: Option<&str>,
    resource: &str,
) -> Result<Option<u64>, Error> {
    let l = match project {
        Some(p) => limits(ctx, p).await?[resource],
        None => defaults(&ctx.config().compute.quota)[resource],
    };
    Ok(u64::try_from(l).ok())
}

fn target(project: &str) -> Target {
    Target::new().with("project_id", project.to_owned())
}

/// 400 unless identity knows the project (Nova asks Keystone too).
async fn known(ctx: &ServiceContext, project: &str) -> Result<(), Error> {
    if virga_service::identity::project(ctx, project)
        .await?
        .is_none()
    {
        return Err(Error::BadRequest(format!(
            "Project ID {project} is not a valid project."
        )));
    }
    Ok(())
}

/// Per-user quotas (`?user_id=`) are not kept; saying so beats ignoring.
pub fn no_user(pairs: &[(String, String)]) -> Result<(), Error> {
    if pairs.iter().any(|(k, _)| k == "user_id") {
        return Err(Error::BadRequest(
            "Per-user quotas are not supported; quotas apply to the whole project.".into(),
        ));
    }
    Ok(())
}

pub async fn show(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
) -> Result<BTreeMap<String, i64>, Error> {
    auth.enforce("os_compute_api:os-quota-sets:show", &target(project))?;
    known(ctx, project).await?;
    limits(ctx, project).await
}

/// What the project holds of each resource compute counts (key pairs:
/// the caller's own, as Nova counts them per user); the rest 0.
pub async fn in_use(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
) -> Result<BTreeMap<String, i64>, Error> {
    let (instances, cores, ram) = crate::db::instance::usage(ctx.db(), project).await?;
    let keys = crate::db::key_pair::count(ctx.db(), auth.claims().user_id()).await?;
    let groups = crate::db::server_group::count(ctx.db(), project).await?;
    let mut out: BTreeMap<String, i64> = defaults(&ctx.config().compute.quota)
        .into_keys()
        .map(|k| (k, 0))
        .collect();
    out.insert("instances".into(), instances);
    out.insert("cores".into(), cores);
    out.insert("ram".into(), ram);
    out.insert("key_pairs".into(), i64::try_from(keys).unwrap_or(i64::MAX));
    out.insert(
        "server_groups".into(),
        i64::try_from(groups).unwrap_or(i64::MAX),
    );
    Ok(out)
}

pub fn show_defaults(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
) -> Result<BTreeMap<String, i64>, Error> {
    auth.enforce("os_compute_api:os-quota-sets:defaults", &target(project))?;
    Ok(defaults(&ctx.config().compute.quota))
}

/// Sets limits from `{"quota_set": {"<resource>": n, "force": bool}}`.
pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    project: &str,
    body: &Value,
) -> Result<BTreeMap<String, i64>, Error> {
    auth.enforce("os_compute_api:os-quota-sets:update", &target(project))?;
    let known_resources = defaults(&ctx.config().compute.quota);
    let mut allowed: Vec<&str> = known_resources.keys().map(String::as_str).collect();
    allowed.push("force");
    let q = input::object(body, "quota_set", &allowed)?;
    if let Some(f) = q.get("force") {
        input::boolean("force", f)?;
    }
    let mut set = BTreeMap::new();
    for (k, v) in q.iter().filter(|(k, _)| k.as_str() != "force") {
        set.insert(k.clone(), i64::from(input::integer(k, v, -1)?));
    }
    known(ctx, project).await?;
    quota::set(ctx.db(), project, &set).await?;
    tracing::info!(project, ?set, "compute quotas set");
    limits(ctx, project).await
}

/// Back to the defaults.
pub async fn revert(ctx: &ServiceContext, auth: &Auth, project: &str) -> Result<(), Error> {
    auth.enforce("os_compute_api:os-quota-sets:delete", &target(project))?;
    known(ctx, project).await?;
    quota::delete_project(ctx.db(), project).await?;
    tracing::info!(project, "compute quotas reverted to the defaults");
    Ok(())
}
