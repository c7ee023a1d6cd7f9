//! The settings of one bus handle, derived from `[bus]` in the configuration.

use std::time::Duration;

use virga_common::config::BusConfig;

/// Settings of one bus handle.
#[derive(Debug, Clone)]
pub struct BusOptions {
    /// How often a message may come back unacknowledged (retry, panic,
    /// consumer death) before it is dead-lettered: it is delivered at most
    /// `delivery_limit + 1` times. RabbitMQ's `x-delivery-limit`.
    pub delivery_limit: u32,
    /// How long `cast`, `notify`, `serve` and the like wait for the broker
    /// (e.g. during a reconnection) before failing with `Unavailable`; also
    /// the call timeout a service should use unless it has a reason not to.
    pub call_timeout: Duration,
    /// The connection name RabbitMQ shows (e.g. the service name).
    pub connection_name: String,
}

impl Default for BusOptions {
    fn default() -> Self {
        BusOptions::from(&BusConfig::default())
    }
}

impl From<&BusConfig> for BusOptions {
    fn from(c: &BusConfig) -> Self {
        BusOptions {
            delivery_limit: c.delivery_limit,
            call_timeout: Duration::from_secs(c.call_timeout_secs),
            connection_name: "virga".into(),
        }
    }
}
