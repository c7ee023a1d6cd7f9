//! Simulated edge agents for tests and benchmarks: one started in this
//! process on a bus, and the instance spec they are given.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use virga_agent::driver::simulated::Simulated;
use virga_agent::{AgentOptions, BusSource, RunningAgent};
use virga_bus::Bus;
use virga_common::config::AgentConfig;
use virga_protocol::agent::{ImageRef, InstanceSpec};

/// Starts an agent on the simulated hypervisor `sim`, its ledger and
/// instances under `data_dir`, on `bus`; it runs until `shutdown`.
pub async fn simulated(
    bus: Bus,
    data_dir: PathBuf,
    config: AgentConfig,
    sim: Simulated,
    shutdown: CancellationToken,
) -> RunningAgent {
    virga_agent::start(
        AgentOptions {
            config,
            region: "RegionOne".into(),
            data_dir,
            bus: BusSource::Ready(bus),
            driver: Arc::new(sim),
            images: None,
            call_timeout: Duration::from_secs(30),
        },
        shutdown,
    )
    .await
    .unwrap_or_else(|e| panic!("agent starts: {}", virga_common::error::chain(&e)))
}

/// An instance of one vCPU booting `image` (which the node must hold).
pub fn instance_spec(uuid: &str, name: &str, image: &str, memory_mb: u64) -> InstanceSpec {
    InstanceSpec {
        uuid: uuid.into(),
        name: name.into(),
        vcpus: 1,
        memory_mb,
        disk_gb: 1,
        image: ImageRef {
            id: image.into(),
            disk_format: "qcow2".into(),
            sha256: None,
            arch: None,
            size: None,
            sources: vec![],
        },
        ports: vec![],
        metadata: Default::default(),
        user_data: None,
    }
}
