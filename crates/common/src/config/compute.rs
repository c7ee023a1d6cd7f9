//! The `[compute]` section: Nova's default quotas and how long a build
//! may take.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComputeConfig {
    /// What a project (key pairs: a user) may have when no admin set its
    /// quota; -1 unlimited.
    pub quota: ComputeQuotaConfig,
    /// How long a node may take to report a new server running (image
    /// download included) before the build fails and is cleaned up.
    pub build_timeout_secs: u64,
}

impl Default for ComputeConfig {
    fn default() -> Self {
        ComputeConfig {
            quota: ComputeQuotaConfig::default(),
            build_timeout_secs: 1800,
        }
    }
}

/// Nova's `[quota]` defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComputeQuotaConfig {
    pub instances: i64,
    pub cores: i64,
    pub ram: i64,
    pub metadata_items: i64,
    pub injected_files: i64,
    pub injected_file_content_bytes: i64,
    pub injected_file_path_bytes: i64,
    pub key_pairs: i64,
    pub server_groups: i64,
    pub server_group_members: i64,
}

impl Default for ComputeQuotaConfig {
    fn default() -> Self {
        ComputeQuotaConfig {
            instances: 10,
            cores: 20,
            ram: 51_200,
            metadata_items: 128,
            injected_files: 5,
            injected_file_content_bytes: 10_240,
            injected_file_path_bytes: 255,
            key_pairs: 100,
            server_groups: 10,
            server_group_members: 10,
        }
    }
}

impl ComputeConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if self.build_timeout_secs == 0 {
            return Err((
                "compute.build_timeout_secs".into(),
                "must be at least 1".into(),
            ));
        }
        let q = &self.quota;
        for (name, v) in [
            ("instances", q.instances),
            ("cores", q.cores),
            ("ram", q.ram),
            ("metadata_items", q.metadata_items),
            ("injected_files", q.injected_files),
            ("injected_file_content_bytes", q.injected_file_content_bytes),
            ("injected_file_path_bytes", q.injected_file_path_bytes),
            ("key_pairs", q.key_pairs),
            ("server_groups", q.server_groups),
            ("server_group_members", q.server_group_members),
        ] {
            if v < -1 {
                return Err((
                    format!("compute.quota.{name}"),
                    "must be -1 (unlimited) or more".into(),
                ));
            }
        }
        Ok(())
    }
}
