//! Running the edge agent from the `virga` binary (`virga agent`, and one
//! in-process under `virga up`): choosing its hypervisor driver as
//! configured and starting it.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use virga_agent::driver::Driver;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_agent::{AgentOptions, BusSource, RunningAgent};
use virga_common::Config;
use virga_common::error::chain;

/// The host's architecture as Virga names it.
fn host_arch() -> &'static str {
    std::env::consts::ARCH
}

#[cfg(feature = "libvirt")]
async fn libvirt(config: &Config) -> Result<Arc<dyn Driver>, String> {
    use virga_agent::driver::libvirt::{Libvirt, LibvirtConfig};
    let a = &config.agent;
    let domain_type = match a.libvirt_domain_type.as_str() {
        "auto" if std::path::Path::new("/dev/kvm").exists() => "kvm",
        "auto" => "qemu",
        t => t,
    };
    let d = Libvirt::connect(LibvirtConfig {
        uri: a.libvirt_uri.clone(),
        domain_type: domain_type.into(),
        arch: host_arch().into(),
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

/// Starts the agent on `bus`.
pub async fn start(
    config: &Config,
    bus: BusSource,
    shutdown: CancellationToken,
) -> Result<(RunningAgent, &'static str), String> {
    let driver = driver(config).await?;
    let name = driver.name();
    let running = virga_agent::start(
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
