//! Virga's configuration: one TOML file, overridden key by key from `VIRGA_*`
//! environment variables, validated once at start.
//!
//! An environment variable names a key path with `__` between the parts:
//! `VIRGA_SERVICES__COMPUTE__LISTEN=0.0.0.0:8774` sets `services.compute.listen`.
//! Every error names the offending key and where its value came from, because a
//! process that refuses to start must say exactly what to fix.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod agent;
mod auth;
mod compute;
mod image;
mod network;
mod scheduler;
pub use agent::{AgentConfig, AgentNetworkConfig};
pub use auth::AuthConfig;
pub use compute::{ComputeConfig, ComputeQuotaConfig};
pub use image::{
    IMPORT_METHODS, ImageConfig, ImageQuotaConfig, ImageStoreConfig, S3StoreConfig,
    SiteStoreConfig, WebDownloadConfig,
};
pub use network::{NetworkConfig, NetworkQuotaConfig};
pub use scheduler::{SchedulerConfig, WeightsConfig};

/// The services a Virga deployment runs, in start order.
pub const SERVICE_NAMES: [&str; 6] = [
    "identity",
    "image",
    "network",
    "scheduler",
    "compute",
    "telemetry",
];

/// The environment variable naming the configuration file; not itself a key.
pub const CONFIG_PATH_VAR: &str = "VIRGA_CONFIG";

/// `VIRGA_*` variables that are not configuration keys: the configuration
/// file's path, and what Virga's scripts hand to `virga up` and the tests
/// (the test images' directory, the OpenStack client to drive).
pub const NOT_KEYS: [&str; 3] = [
    CONFIG_PATH_VAR,
    "VIRGA_TEST_IMAGES",
    "VIRGA_OPENSTACK_CLIENT",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where embedded state lives: one SQLite file per service.
    pub data_dir: PathBuf,
    /// This node's name, used in bus topics such as `agent.<host>`.
    pub host: String,
    /// The region (central cloud or edge site) these services belong to.
    pub region: String,
    pub log: LogConfig,
    pub bus: BusConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub image: ImageConfig,
    pub network: NetworkConfig,
    pub compute: ComputeConfig,
    pub scheduler: SchedulerConfig,
    pub agent: AgentConfig,
    pub services: ServicesConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter directive, e.g. `info,virga_bus=debug`.
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// `memory` for the in-process bus, or an `amqp://` / `amqps://` URL.
    pub url: String,
    /// How long a `call` waits for its reply.
    pub call_timeout_secs: u64,
    /// Deliveries of one message before it is dead-lettered as poison.
    pub delivery_limit: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// A `sqlite://` or `postgres://` URL; `{service}` is replaced by the
    /// service name and `{data_dir}` by `data_dir`, so each service gets its own
    /// database from one setting.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesConfig {
    pub identity: ServiceConfig,
    pub compute: ServiceConfig,
    pub image: ServiceConfig,
    pub network: ServiceConfig,
    pub scheduler: ServiceConfig,
    pub telemetry: ServiceConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// The address the service's REST API binds; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The URL clients use to reach this service (the catalog endpoint);
    /// defaults to `http://<listen>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Overrides `database.url` for this service alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// A YAML file of policy rules (oslo.policy's format) replacing the
    /// service's defaults rule by rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_file: Option<PathBuf>,
}

impl ServiceConfig {
    fn on_port(port: u16) -> Self {
        ServiceConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
            public_url: None,
            database_url: None,
            policy_file: None,
        }
    }
    fn identity() -> Self {
        Self::on_port(5000)
    }
    fn compute() -> Self {
        Self::on_port(8774)
    }
    fn image() -> Self {
        Self::on_port(9292)
    }
    fn network() -> Self {
        Self::on_port(9696)
    }
    fn scheduler() -> Self {
        Self::on_port(8778)
    }
    fn telemetry() -> Self {
        Self::on_port(8041)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("/var/lib/virga"),
            host: default_host(),
            region: "RegionOne".into(),
            log: LogConfig::default(),
            bus: BusConfig::default(),
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            image: ImageConfig::default(),
            network: NetworkConfig::default(),
            compute: ComputeConfig::default(),
            scheduler: SchedulerConfig::default(),
            agent: AgentConfig::default(),
            services: ServicesConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            url: "memory".into(),
            call_timeout_secs: 30,
            delivery_limit: 5,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://{data_dir}/{service}.db".into(),
            max_connections: 10,
        }
    }
}

impl Default for ServicesConfig {
    fn default() -> Self {
        ServicesConfig {
            identity: ServiceConfig::identity(),
            compute: ServiceConfig::compute(),
            image: ServiceConfig::image(),
            network: ServiceConfig::network(),
            scheduler: ServiceConfig::scheduler(),
            telemetry: ServiceConfig::telemetry(),
        }
    }
}

impl ServicesConfig {
    /// The configuration of the named service, if there is such a service.
    pub fn get(&self, service: &str) -> Option<&ServiceConfig> {
        Some(match service {
            "identity" => &self.identity,
            "compute" => &self.compute,
            "image" => &self.image,
            "network" => &self.network,
            "scheduler" => &self.scheduler,
            "telemetry" => &self.telemetry,
            _ => return None,
        })
    }

    pub fn get_mut(&mut self, service: &str) -> Option<&mut ServiceConfig> {
        Some(match service {
            "identity" => &mut self.identity,
            "compute" => &mut self.compute,
            "image" => &mut self.image,
            "network" => &mut self.network,
            "scheduler" => &mut self.scheduler,
            "telemetry" => &mut self.telemetry,
            _ => return None,
        })
    }
}

fn default_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Why a configuration was refused; the Display form is the one line the
/// binary prints before exiting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid configuration key `{key}` (from {origin}): {message}")]
    Invalid {
        key: String,
        origin: String,
        message: String,
    },
}

impl Config {
    /// Loads the file (if any), applies `VIRGA_*` overrides from `env` and
    /// validates the result.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = toml::Table::try_from(Config::default()).expect("defaults serialize");
        let (file, file_origin) = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                let table: toml::Table =
                    text.parse()
                        .map_err(|e: toml::de::Error| ConfigError::Syntax {
                            path: path.to_owned(),
                            message: e.message().to_string(),
                        })?;
                (table, format!("file {}", path.display()))
            }
            None => (toml::Table::new(), "defaults".to_string()),
        };
        merge(&mut table, file);
        let origins = apply_env(&mut table, env)?;
        let origin_of = |key: &str| {
            origins
                .iter()
                .find(|(k, _)| key == k.as_str() || key.starts_with(&format!("{k}.")))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| file_origin.clone())
        };
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let key = e.path().to_string();
                let key = if key == "." {
                    "(top level)".into()
                } else {
                    key
                };
                ConfigError::Invalid {
                    origin: origin_of(&key),
                    message: e.into_inner().message().to_string(),
                    key,
                }
            })?;
        config
            .validate()
            .map_err(|(key, message)| ConfigError::Invalid {
                origin: origin_of(&key),
                key,
                message,
            })?;
        Ok(config)
    }

    /// The database URL of one service, with `{service}` and `{data_dir}` filled in.
    pub fn database_url(&self, service: &str) -> String {
        let template = self
            .services
            .get(service)
            .and_then(|s| s.database_url.clone())
            .unwrap_or_else(|| self.database.url.clone());
        template
            .replace("{service}", service)
            .replace("{data_dir}", &self.data_dir.to_string_lossy())
    }

    fn validate(&self) -> Result<(), (String, String)> {
        self.auth.validate()?;
        self.image.validate()?;
        self.network.validate()?;
        self.compute.validate()?;
        self.scheduler.validate()?;
        self.agent.validate()?;
        let bus = &self.bus.url;
        if bus != "memory" && !bus.starts_with("amqp://") && !bus.starts_with("amqps://") {
            return Err((
                "bus.url".into(),
                format!("`{bus}` is neither `memory` nor an amqp:// or amqps:// URL"),
            ));
        }
        if self.bus.call_timeout_secs == 0 {
            return Err(("bus.call_timeout_secs".into(), "must be at least 1".into()));
        }
        if self.bus.delivery_limit == 0 {
            return Err(("bus.delivery_limit".into(), "must be at least 1".into()));
        }
        if self.database.max_connections == 0 {
            return Err((
                "database.max_connections".into(),
                "must be at least 1".into(),
            ));
        }
        if self.host.is_empty()
            || !self
                .host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err((
                "host".into(),
                "must be non-empty and use only letters, digits, '-', '_' and '.'".into(),
            ));
        }
        let mut ports = BTreeMap::new();
        for name in SERVICE_NAMES {
            let svc = self
                .services
                .get(name)
                .expect("every listed service is configured");
            let key = |field: &str| format!("services.{name}.{field}");
            let url = self.database_url(name);
            if !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
            {
                return Err((
                    key("database_url"),
                    format!("`{url}` is neither a sqlite: nor a postgres:// URL"),
                ));
            }
            if let Some(public) = &svc.public_url
                && !(public.starts_with("http://") || public.starts_with("https://"))
            {
                return Err((
                    key("public_url"),
                    format!("`{public}` is not an http(s) URL"),
                ));
            }
            let port = svc.listen.port();
            if port != 0
                && let Some(other) = ports.insert((svc.listen.ip(), port), name)
            {
                return Err((
                    key("listen"),
                    format!("{} is also the address of {other}", svc.listen),
                ));
            }
        }
        Ok(())
    }
}

/// Deep-merges `over` into `base`: tables merge key by key, values replace.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Writes each `VIRGA_A__B=value` into `table` at `a.b`, returning which keys
/// came from which variable.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut origins = Vec::new();
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix("VIRGA_") else {
            continue;
        };
        if NOT_KEYS.contains(&var.as_str()) {
            continue;
        }
        let parts: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
        let key = parts.join(".");
        let origin = format!("environment variable {var}");
        if parts.iter().any(|p| p.is_empty()) {
            return Err(ConfigError::Invalid {
                key,
                origin,
                message: "empty key part".into(),
            });
        }
        let mut node = &mut *table;
        for part in &parts[..parts.len() - 1] {
            let entry = node
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            node = match entry {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(ConfigError::Invalid {
                        key,
                        origin,
                        message: format!("`{part}` is a value, not a section"),
                    });
                }
            };
        }
        node.insert(parts[parts.len() - 1].clone(), env_value(&raw));
        origins.push((key, origin));
    }
    Ok(origins)
}

/// Reads an environment value as a TOML integer, boolean or array when it is
/// one, and as a plain string otherwise (so `0.0.0.0:5000` needs no quotes).
fn env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .filter(|v| !matches!(v, toml::Value::Float(_) | toml::Value::Datetime(_)))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests;
