//! Running the agent from Virga's configuration, as `virga agent`, the
//! slim `virga-agent` binary and `virga up` do: choosing its hypervisor
//! driver as configured and starting it.

use std::sync::Arc;
use std::time::Duration;

use crate::driver::Driver;
use crate::driver::simulated::{SimConfig, Simulated};
use crate::{AgentOptions, BusSource, RunningAgent};
use tokio_util::sync::CancellationToken;
use virga_common::Config;
use virga_common::error::chain;

#[cfg(feature = "libvirt")]
async fn libvirt(config: &Config) -> Result<Arc<dyn Driver>, String> {
    use crate::driver::libvirt::{Libvirt, LibvirtConfig};
    let a = &config.agent;
    let domain_type = match a.libvirt_domain_type.as_str() {
        "auto" if std::path::Path::new("/dev/kvm").exists() => "kvm",
        "auto" => "qemu",
        t => t,
    };
    let d = Libvirt::connect(LibvirtConfig {
        uri: a.libvirt_uri.clone(),
        domain_type: domain_type.into(),
        // Rust names x86_64 and aarch64 as Virga does.
        arch: std::env::consts::ARCH.into(),
        instance_path: instance_path(config),
    })
    .await
    .map_err(|e| format!("libvirt at {}: {}", a.libvirt_uri, chain(&e)))?;
    let caps = d.capabilities().await.map_err(|e| chain(&e))?;
    if !caps.domain_types.iter().any(|t| t == domain_type) {
        return Err(format!(
            "libvirt at {} cannot run `{domain_type}` domains (it offers: {}); set agent.libvirt_domain_type",
            a.libvirt_uri,
            caps.domain_types.join(", ")
        ));
    }
    Ok(Arc::new(d))
}

#[cfg(not(feature = "libvirt"))]
async fn libvirt(_config: &Config) -> Result<Arc<dyn Driver>, String> {
    Err("this virga was built without the libvirt driver (cargo feature `libvirt`)".into())
}

#[cfg(feature = "libvirt")]
fn instance_path(config: &Config) -> std::path::PathBuf {
    config
        .agent
        .instance_path
        .clone()
        .unwrap_or_else(|| config.data_dir.join("instances"))
}

/// The configured driver; `auto` falls back to the simulated one, loudly.
pub async fn driver(config: &Config) -> Result<Arc<dyn Driver>, String> {
    match config.agent.driver.as_str() {
        "simulated" => Ok(Arc::new(Simulated::new(SimConfig::default()))),
        "libvirt" => libvirt(config).await,
        _ => match libvirt(config).await {
            Ok(d) => Ok(d),
            Err(why) => {
                tracing::warn!(%why, "no usable libvirt: instances run on the SIMULATED driver \
                    (nothing really boots); set agent.driver to choose");
                Ok(Arc::new(Simulated::new(SimConfig::default())))
            }
        },
    }
}

/// Runs the agent alone until SIGTERM / SIGINT: the bus is connected in
/// the background, so a node starts (and restores its instances) with the
/// centre unreachable.
pub async fn run_alone(config: Config) -> Result<(), String> {
    if config.bus.url == "memory" {
        tracing::warn!(
            "bus.url is `memory`: this agent can reach no centre; set bus.url to an amqp:// URL"
        );
    }
    let shutdown = CancellationToken::new();
    let bus = BusSource::Connect(agent_bus(&config));
    let (agent, driver) = start(&config, bus, shutdown.clone()).await?;
    println!(
        "virga: agent of node {} running ({driver} driver); Ctrl-C to stop",
        agent.node
    );
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, stopping"),
    }
    shutdown.cancel();
    agent.wait().await;
    Ok(())
}

/// The bus configuration with the agent's frame size, unless the URL
/// names one.
fn agent_bus(config: &Config) -> virga_common::config::BusConfig {
    let mut bus = config.bus.clone();
    let frame = config.agent.bus_frame_max;
    if frame > 0 && bus.url.starts_with("amqp") && !bus.url.contains("frame_max=") {
        let sep = if bus.url.contains('?') { '&' } else { '?' };
        bus.url = format!("{}{sep}frame_max={frame}", bus.url);
    }
    bus
}

/// Starts the agent on `bus`.
pub async fn start(
    config: &Config,
    bus: BusSource,
    shutdown: CancellationToken,
) -> Result<(RunningAgent, &'static str), String> {
    let driver = driver(config).await?;
    let name = driver.name();
    let running = crate::start(
        AgentOptions {
            config: config.agent.clone(),
            region: config.region.clone(),
            data_dir: config.data_dir.clone(),
            bus,
            driver,
            images: None,
            call_timeout: Duration::from_secs(config.bus.call_timeout_secs),
        },
        shutdown,
    )
    .await
    .map_err(|e| format!("agent: {}", chain(&e)))?;
    Ok((running, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_asks_for_small_frames_unless_told() {
        let mut c = Config::default();
        c.bus.url = "amqp://u:p@mq:5672/virga".into();
        assert_eq!(
            agent_bus(&c).url,
            "amqp://u:p@mq:5672/virga?frame_max=16384"
        );
        c.bus.url = "amqps://mq/v?heartbeat=10".into();
        assert_eq!(
            agent_bus(&c).url,
            "amqps://mq/v?heartbeat=10&frame_max=16384"
        );
        c.bus.url = "amqp://mq/v?frame_max=65536".into();
        assert_eq!(agent_bus(&c).url, "amqp://mq/v?frame_max=65536");
        c.agent.bus_frame_max = 0;
        c.bus.url = "amqp://mq/v".into();
        assert_eq!(agent_bus(&c).url, "amqp://mq/v");
    }
}
