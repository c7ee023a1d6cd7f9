//! Tracing set-up for every Virga process: human-readable text by default,
//! one JSON object per line for log shippers.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. `RUST_LOG`, when set, wins over the
/// configured level so an operator can turn up one module without editing files.
/// Returns an error only for a bad filter directive; a second call is a no-op.
pub fn init(config: &LogConfig) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.is_empty() => EnvFilter::try_new(&v).map_err(|e| format!("RUST_LOG: {e}"))?,
        _ => EnvFilter::try_new(&config.level)
            .map_err(|e| format!("invalid configuration key `log.level`: {e}"))?,
    };
    // Migrations log every start at info; only their problems matter here.
    let filter = filter.add_directive("sea_orm_migration=warn".parse().expect("valid directive"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match config.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
    Ok(())
}
