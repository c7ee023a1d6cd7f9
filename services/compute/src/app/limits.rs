//! `GET /v2.1/limits`: a project's absolute limits and what it uses, in
//! Nova 2.1's names (the `rate` limits Nova dropped are an empty list).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::quota_set;

/// Nova's absolute limit names for the quota resources.
const LIMITS: &[(&str, &str)] = &[
    ("maxImageMeta", "metadata_items"),
    ("maxPersonality", "injected_files"),
    ("maxPersonalitySize", "injected_file_content_bytes"),
    ("maxSecurityGroupRules", "security_group_rules"),
    ("maxSecurityGroups", "security_groups"),
    ("maxServerMeta", "metadata_items"),
    ("maxTotalCores", "cores"),
    ("maxTotalFloatingIps", "floating_ips"),
    ("maxTotalInstances", "instances"),
    ("maxTotalKeypairs", "key_pairs"),
    ("maxTotalRAMSize", "ram"),
    ("maxServerGroups", "server_groups"),
    ("maxServerGroupMembers", "server_group_members"),
];

const USED: &[(&str, &str)] = &[
    ("totalCoresUsed", "cores"),
    ("totalInstancesUsed", "instances"),
    ("totalRAMUsed", "ram"),
    ("totalSecurityGroupsUsed", "security_groups"),
    ("totalFloatingIpsUsed", "floating_ips"),
    ("totalServerGroupsUsed", "server_groups"),
];

/// The caller's project's limits, or (admins) those of `tenant_id`.
pub async fn show(ctx: &ServiceContext, auth: &Auth, tenant: Option<&str>) -> Result<Value, Error> {
    let own = auth.claims().project_id().map(str::to_owned);
    let project = match (tenant, &own) {
        (Some(t), Some(o)) if t == o => o.clone(),
        (Some(t), _) => {
            auth.enforce("os_compute_api:limits:other_project", &Target::new())?;
            t.to_owned()
        }
        (None, Some(o)) => o.clone(),
        (None, None) => {
            return Err(Error::Forbidden(
                "A project-scoped token is required.".into(),
            ));
        }
    };
    auth.enforce("os_compute_api:limits", &Target::new())?;
    let limits = quota_set::limits(ctx, &project).await?;
    let used = quota_set::in_use(ctx, auth, &project).await?;
    let pick = |m: &BTreeMap<String, i64>, k: &str| m.get(k).copied().unwrap_or(0);
    let mut absolute = serde_json::Map::new();
    for (name, res) in LIMITS {
        absolute.insert((*name).into(), json!(pick(&limits, res)));
    }
    for (name, res) in USED {
        absolute.insert((*name).into(), json!(pick(&used, res)));
    }
    Ok(json!({"limits": {"absolute": absolute, "rate": []}}))
}
