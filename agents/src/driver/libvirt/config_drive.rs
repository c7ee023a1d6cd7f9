//! The config drive: an ISO 9660 volume labelled `config-2` with
//! `openstack/latest/meta_data.json` (and `user_data` when given), as Nova
//! writes it, so cloud-init's ConfigDrive datasource (and anything else
//! reading OpenStack's layout) finds the instance's identity, metadata
//! and user data without a metadata service — which a site cut off from
//! the centre would not reach anyway. Every instance gets one (Nova's
//! `force_config_drive`), rebuilt with its disk. Made with `xorriso`.

use std::path::Path;

use base64::Engine;
use serde_json::json;
use tokio::process::Command;
use virga_protocol::agent::{InstanceSpec, hostname};

#[derive(Debug, thiserror::Error)]
pub enum ConfigDriveError {
    #[error("the instance's user_data is not base64")]
    UserData(#[source] base64::DecodeError),
    #[error("cannot write the config drive's files")]
    Io(#[from] std::io::Error),
    #[error("xorriso failed: {0}")]
    Xorriso(String),
}

/// `meta_data.json`, with the keys of Nova's that the agent knows.
pub fn meta_data(spec: &InstanceSpec) -> serde_json::Value {
    json!({
        "uuid": spec.uuid,
        "name": spec.name,
        "hostname": hostname(&spec.name),
        "launch_index": 0,
        "meta": spec.metadata,
        "public_keys": {},
        "devices": [],
    })
}

/// Writes the config drive of `spec` to `target` (replacing it), using
/// `work` as scratch space.
pub async fn make(spec: &InstanceSpec, work: &Path, target: &Path) -> Result<(), ConfigDriveError> {
    let user_data = match &spec.user_data {
        Some(u) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(u.trim())
                .map_err(ConfigDriveError::UserData)?,
        ),
        None => None,
    };
    let _ = tokio::fs::remove_dir_all(work).await;
    let latest = work.join("openstack/latest");
    tokio::fs::create_dir_all(&latest).await?;
    let meta = serde_json::to_vec_pretty(&meta_data(spec)).expect("JSON serializes");
    tokio::fs::write(latest.join("meta_data.json"), meta).await?;
    if let Some(u) = user_data {
        tokio::fs::write(latest.join("user_data"), u).await?;
    }
    let tmp = target.with_extension("config.tmp");
    let _ = tokio::fs::remove_file(&tmp).await;
    let out = Command::new("xorriso")
        .args([
            "-as", "mkisofs", "-quiet", "-V", "config-2", "-J", "-R", "-o",
        ])
        .arg(&tmp)
        .arg(work)
        .output()
        .await
        .map_err(|e| ConfigDriveError::Xorriso(format!("cannot run it: {e}")))?;
    let _ = tokio::fs::remove_dir_all(work).await;
    if !out.status.success() {
        return Err(ConfigDriveError::Xorriso(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    tokio::fs::rename(&tmp, target).await?;
    Ok(())
}
