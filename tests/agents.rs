//! Simulated edge agents for tests and benchmarks: one started in this
//! process on a bus, the instance spec they are given, sending them
//! commands and hearing their events.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use virga_agent::driver::simulated::Simulated;
use virga_agent::{AgentOptions, BusSource, RunningAgent};
use virga_bus::{Bus, Consumer, Context, Incoming, handler_fn};
use virga_common::config::AgentConfig;
use virga_protocol::agent::{AgentCommand, AgentEvent, ImageRef, InstanceSpec, topic};
use virga_protocol::{from_parts, to_parts};

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
        image: ImageRef::held(image, "qcow2"),
        ports: vec![],
        metadata: Default::default(),
        user_data: None,
        build: 0,
    }
}

/// Casts `cmd` to the agent of `node`.
pub async fn send(bus: &Bus, node: &str, cmd: &AgentCommand) {
    let (method, args) = to_parts(cmd);
    bus.cast(&topic(node), &method, args, &Context::default())
        .await
        .unwrap();
}

/// Every agent's events, as they are published (keep the consumer).
pub async fn events(bus: &Bus) -> (Consumer, mpsc::UnboundedReceiver<AgentEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let sub = bus
        .subscribe(
            virga_protocol::agent::EVENTS,
            None,
            handler_fn(move |m: Incoming| {
                let tx = tx.clone();
                async move {
                    if let Ok(ev) = from_parts::<AgentEvent>(&m.envelope.method, m.envelope.args) {
                        let _ = tx.send(ev);
                    }
                    Ok(Value::Null)
                }
            }),
        )
        .await
        .unwrap();
    (sub, rx)
}
