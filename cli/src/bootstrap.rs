//! What `virga up` does once its services listen: bootstrap identity (the
//! default roles, an admin user and project, the region, a catalog entry per
//! running service) and, the first time, show the admin's password once and
//! write it to `clouds.yaml` in the data directory, so that
//! `OS_CLIENT_CONFIG_FILE=<data dir>/clouds.yaml OS_CLOUD=virga openstack ...`
//! works at once.

use std::path::{Path, PathBuf};

use virga_common::Config;
use virga_identity::app::bootstrap::{self, Bootstrap};
use virga_identity::migrations::Migrator;
use virga_service::Running;

/// The catalog entry of each service: type, name (as OpenStack names it)
/// and the path of its API below the service's URL.
const CATALOG: [(&str, &str, &str, &str); 6] = [
    ("identity", "identity", "keystone", "/v3"),
    ("compute", "compute", "nova", "/v2.1"),
    ("image", "image", "glance", ""),
    ("network", "network", "neutron", ""),
    ("scheduler", "placement", "placement", ""),
    ("telemetry", "metric", "gnocchi", ""),
];

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PROJECT: &str = "admin";

/// What the operator is told once.
pub struct FirstRun {
    pub password: String,
    pub clouds_yaml: PathBuf,
}

/// Bootstraps identity; returns the admin's credentials when this run
/// created the admin. Later runs keep the admin and refresh the catalog and
/// the `auth_url` in `clouds.yaml` (ports may change between runs).
pub async fn run(config: &Config, running: &[Running]) -> Result<Option<FirstRun>, String> {
    let Some(identity) = running.iter().find(|r| r.name == "identity") else {
        return Ok(None);
    };
    let endpoints = CATALOG
        .iter()
        .filter_map(|(service, kind, name, path)| {
            let r = running.iter().find(|r| r.name == *service)?;
            Some((
                kind.to_string(),
                name.to_string(),
                format!("{}{path}", r.url),
            ))
        })
        .collect();
    let password = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let spec = Bootstrap {
        admin_user: ADMIN_USER.into(),
        admin_password: password.clone(),
        admin_project: ADMIN_PROJECT.into(),
        region: config.region.clone(),
        endpoints,
    };
    let url = config.database_url("identity");
    let db = virga_db::connect_and_migrate::<Migrator>(&url, 1)
        .await
        .map_err(|e| format!("bootstrap: {}", virga_common::error::chain(&e)))?;
    let done = bootstrap::run(&db, &spec)
        .await
        .map_err(|e| format!("bootstrap: {}", virga_common::error::chain(&e)))?;
    db.close().await.ok();
    let auth_url = format!("{}/v3", identity.url);
    let path = config.data_dir.join("clouds.yaml");
    if done.created_admin {
        write_clouds_yaml(&path, &auth_url, &password, &config.region)?;
        return Ok(Some(FirstRun {
            password,
            clouds_yaml: path,
        }));
    }
    refresh_auth_url(&path, &auth_url);
    Ok(None)
}

fn clouds_yaml(auth_url: &str, password: &str, region: &str) -> String {
    format!(
        "# Written by `virga up` when it created the admin user.\n\
         clouds:\n  virga:\n    auth:\n      auth_url: {auth_url}\n      username: {ADMIN_USER}\n      \
         password: \"{password}\"\n      project_name: {ADMIN_PROJECT}\n      user_domain_name: Default\n      \
         project_domain_name: Default\n    region_name: {region}\n    interface: public\n    \
         identity_api_version: 3\n"
    )
}

/// Readable by its owner only: it holds the admin's password.
fn write_clouds_yaml(
    path: &Path,
    auth_url: &str,
    password: &str,
    region: &str,
) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(clouds_yaml(auth_url, password, region).as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Points an existing `clouds.yaml` at this run's identity URL.
fn refresh_auth_url(path: &Path, auth_url: &str) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let updated: Vec<String> = text
        .lines()
        .map(|line| match line.trim_start().strip_prefix("auth_url:") {
            Some(_) => format!("      auth_url: {auth_url}"),
            None => line.to_string(),
        })
        .collect();
    if let Err(e) = std::fs::write(path, updated.join("\n") + "\n") {
        tracing::warn!(path = %path.display(), error = %e, "cannot update clouds.yaml");
    }
}
