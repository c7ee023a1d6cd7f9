//! The edge agent against the real scheduler, on the in-process bus and on
//! RabbitMQ, with the simulated hypervisor: it registers its node with no
//! manual step and keeps it alive with heartbeats; commands on its own
//! queue become instances; duplicates and stale generations change
//! nothing; what the host cannot run fails alone with a reason; an agent
//! restart and a host reboot bring back what should run.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_agent::driver::{Driver, GuestState};
use virga_agent::{BusSource, RunningAgent};
use virga_bus::Context;
use virga_common::config::AgentConfig;
use virga_protocol::agent::{
    AgentCommand, AgentEvent, ConsoleLog, InstanceSpec, InstanceState, Power, topic,
};
use virga_protocol::to_parts;
use virga_tests::Cloud;

use super::resource_provider::placement;

crate::on_both_backends!(registers_and_runs_instances, survives_restarts);

/// An agent on the simulated hypervisor, with its data in `dir`.
pub(crate) struct TestAgent {
    pub running: RunningAgent,
    pub shutdown: CancellationToken,
}

pub(crate) fn agent_config(site: &str) -> AgentConfig {
    AgentConfig {
        site: site.into(),
        kind: "mec".into(),
        heartbeat_secs: 1,
        reconcile_secs: 1,
        stop_timeout_secs: 5,
        ..AgentConfig::default()
    }
}

impl TestAgent {
    pub async fn start(
        bus: BusSource,
        dir: &Path,
        sim: Simulated,
        config: AgentConfig,
    ) -> TestAgent {
        let shutdown = CancellationToken::new();
        let BusSource::Ready(bus) = bus else {
            panic!("test agents use the cloud's bus")
        };
        let running =
            virga_tests::agents::simulated(bus, dir.to_owned(), config, sim, shutdown.clone())
                .await;
        TestAgent { running, shutdown }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.running.wait().await;
    }
}

pub(crate) use virga_tests::agents::{events, send};

/// Waits for `instance` to be reported in `state`; returns its reason.
pub(crate) async fn reported(
    rx: &mut mpsc::UnboundedReceiver<AgentEvent>,
    instance: &str,
    state: InstanceState,
) -> Option<String> {
    let wait = async {
        loop {
            match rx.recv().await.expect("events keep coming") {
                AgentEvent::InstanceState { status, .. }
                    if status.instance == instance && status.state == state =>
                {
                    return status.reason;
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .unwrap_or_else(|_| panic!("{instance} never reported {state:?}"))
}

/// Waits for a full report; returns it.
pub(crate) async fn full_report(rx: &mut mpsc::UnboundedReceiver<AgentEvent>) -> AgentEvent {
    let wait = async {
        loop {
            let ev = rx.recv().await.expect("events keep coming");
            if matches!(ev, AgentEvent::Report { .. }) {
                return ev;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .expect("a full report comes")
}

pub(crate) fn spec(uuid: &str, image: &str, memory_mb: u64) -> InstanceSpec {
    virga_tests::agents::instance_spec(uuid, &format!("vm-{}", &uuid[..8]), image, memory_mb)
}

pub(crate) fn ensure(generation: u64, spec: &InstanceSpec, power: Power) -> AgentCommand {
    AgentCommand::Ensure {
        request_id: format!("req-{generation}"),
        generation,
        spec: Box::new(spec.clone()),
        power,
    }
}

/// Puts an image file where the agent looks for it.
pub(crate) fn seed_image(dir: &Path, id: &str) {
    let base = dir.join("instances/_base");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(base.join(id), b"not really a disk").unwrap();
}

async fn node_view(cloud: &Cloud, node: &str) -> Option<Value> {
    let admin = cloud.admin_token().await;
    let (status, body, _) = placement(
        cloud,
        &admin,
        "1.0",
        Method::GET,
        &format!("/scheduler/v1/nodes/{node}"),
        None,
    )
    .await;
    (status == 200).then(|| body["node"].clone())
}

/// Waits until the node is registered (its agent serves its queue by then).
pub(crate) async fn registered(cloud: &Cloud, node: &str) -> Value {
    for _ in 0..200 {
        if let Some(v) = node_view(cloud, node).await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node {node} never registered");
}

const A: &str = "a0000000-0000-4000-8000-00000000000a";
const B: &str = "b0000000-0000-4000-8000-00000000000b";
const C: &str = "c0000000-0000-4000-8000-00000000000c";

async fn registers_and_runs_instances(cloud: &Cloud) {
    let dir = tempfile::tempdir().unwrap();
    seed_image(dir.path(), "img-1");
    let (_sub, mut rx) = events(&cloud.bus).await;
    let memory = 2048;
    let sim = Simulated::new(SimConfig {
        memory_mb: memory,
        ..SimConfig::default()
    });
    let agent = TestAgent::start(
        BusSource::Ready(cloud.bus.clone()),
        dir.path(),
        sim.clone(),
        agent_config("agent-site"),
    )
    .await;
    let node = agent.running.node.clone();
    let host = agent.running.host.clone();

    // Registered with no manual step, with what discovery found; then its
    // heartbeats carry the images it holds.
    let mut view = None;
    for _ in 0..100 {
        view = node_view(cloud, &node).await;
        if view
            .as_ref()
            .is_some_and(|v| v["images"] == json!(["img-1"]))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let view = view.expect("the node registered itself");
    assert_eq!(view["hostname"], host.hostname.as_str());
    assert_eq!(view["state"], "up");
    assert_eq!(view["images"], json!(["img-1"]), "{view}");
    assert!(view["load"]["loadavg"].is_array(), "{view}");
    // Facts beyond inventories: the CPU model, interfaces with addresses.
    assert_eq!(view["facts"]["cpu_model"], host.cpu.model.as_str());
    assert_eq!(view["facts"]["driver"], "simulated");
    let lo = view["facts"]["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "lo")
        .cloned()
        .unwrap();
    assert!(lo["addresses"].to_string().contains("127.0.0.1/8"), "{lo}");
    let admin = cloud.admin_token().await;
    let (_, inv, _) = placement(
        cloud,
        &admin,
        "1.0",
        Method::GET,
        &format!("/resource_providers/{node}/inventories"),
        None,
    )
    .await;
    assert_eq!(
        inv["inventories"]["VCPU"]["total"],
        json!(host.cpu.count),
        "{inv}"
    );
    assert_eq!(
        inv["inventories"]["MEMORY_MB"]["total"],
        json!(host.memory_mb)
    );

    // The first full report, from before anything ran.
    let AgentEvent::Report { instances, .. } = full_report(&mut rx).await else {
        unreachable!()
    };
    assert!(instances.is_empty());

    // Ensure → running; the same command again and an older one change nothing.
    let a = spec(A, "img-1", 256);
    send(&cloud.bus, &node, &ensure(1, &a, Power::Running)).await;
    assert_eq!(reported(&mut rx, A, InstanceState::Running).await, None);
    send(&cloud.bus, &node, &ensure(1, &a, Power::Running)).await;
    send(&cloud.bus, &node, &ensure(0, &a, Power::Stopped)).await;
    // A reboot (generation 2) is done once, however often it arrives.
    let reboot = AgentCommand::Reboot {
        request_id: "req-r".into(),
        instance: A.into(),
        generation: 2,
        hard: false,
    };
    send(&cloud.bus, &node, &reboot).await;
    send(&cloud.bus, &node, &reboot).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sim.status(A).await.unwrap(), Some(GuestState::Running));
    assert_eq!(sim.boots(A), 2, "booted, then rebooted once");

    // What the host cannot run fails alone, with the reason.
    let missing = spec(B, "img-missing", 256);
    send(&cloud.bus, &node, &ensure(1, &missing, Power::Running)).await;
    let why = reported(&mut rx, B, InstanceState::Error).await.unwrap();
    assert!(
        why.contains("img-missing") && why.contains("image cache"),
        "{why}"
    );
    let mut arm = spec(C, "img-1", 256);
    arm.image.arch = Some(
        if host.arch == "x86_64" {
            "aarch64"
        } else {
            "x86_64"
        }
        .into(),
    );
    send(&cloud.bus, &node, &ensure(1, &arm, Power::Running)).await;
    let why = reported(&mut rx, C, InstanceState::Error).await.unwrap();
    assert!(why.contains("this node is"), "{why}");
    // A newer command for C that fits: it gets its chance.
    send(
        &cloud.bus,
        &node,
        &ensure(2, &spec(C, "img-1", memory * 2), Power::Running),
    )
    .await;
    let why = reported(&mut rx, C, InstanceState::Error).await.unwrap();
    assert!(why.contains("MiB"), "{why}");
    assert_eq!(sim.status(A).await.unwrap(), Some(GuestState::Running));

    // Stop, start again, the console log over a call.
    send(&cloud.bus, &node, &ensure(3, &a, Power::Stopped)).await;
    reported(&mut rx, A, InstanceState::Stopped).await;
    send(&cloud.bus, &node, &ensure(4, &a, Power::Running)).await;
    reported(&mut rx, A, InstanceState::Running).await;
    let (m, args) = to_parts(&AgentCommand::ConsoleLog {
        instance: A.into(),
        max_bytes: None,
    });
    let log: ConsoleLog = serde_json::from_value(
        cloud
            .bus
            .call(
                &topic(&node),
                &m,
                args,
                &Context::default(),
                Duration::from_secs(10),
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(log.output.contains("boot 3"), "{}", log.output);

    // Pause and unpause; a rebuild from the same image (a new build).
    send(&cloud.bus, &node, &ensure(5, &a, Power::Paused)).await;
    reported(&mut rx, A, InstanceState::Paused).await;
    assert_eq!(sim.status(A).await.unwrap(), Some(GuestState::Paused));
    send(&cloud.bus, &node, &ensure(6, &a, Power::Running)).await;
    reported(&mut rx, A, InstanceState::Running).await;
    let mut again = a.clone();
    again.build = 1;
    send(&cloud.bus, &node, &ensure(7, &again, Power::Running)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sim.boots(A) < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "rebuilt and booted again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    send(&cloud.bus, &node, &ensure(8, &again, Power::Running)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sim.boots(A), 4, "the same build is not rebuilt again");

    // Delete: the guest goes, a late ensure does not bring it back.
    send(
        &cloud.bus,
        &node,
        &AgentCommand::Delete {
            request_id: "req-d".into(),
            instance: A.into(),
            generation: 9,
        },
    )
    .await;
    reported(&mut rx, A, InstanceState::Deleted).await;
    send(&cloud.bus, &node, &ensure(4, &a, Power::Running)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sim.status(A).await.unwrap(), None);
    agent.stop().await;
}

async fn survives_restarts(cloud: &Cloud) {
    let dir = tempfile::tempdir().unwrap();
    seed_image(dir.path(), "img-1");
    let (_sub, mut rx) = events(&cloud.bus).await;
    let sim = Simulated::new(SimConfig::default());
    let start = |sim: Simulated| {
        TestAgent::start(
            BusSource::Ready(cloud.bus.clone()),
            dir.path(),
            sim,
            agent_config("restart-site"),
        )
    };
    let agent = start(sim.clone()).await;
    let node = agent.running.node.clone();
    registered(cloud, &node).await;
    let (a, b) = (spec(A, "img-1", 128), spec(B, "img-1", 128));
    send(&cloud.bus, &node, &ensure(1, &a, Power::Running)).await;
    send(&cloud.bus, &node, &ensure(1, &b, Power::Stopped)).await;
    reported(&mut rx, A, InstanceState::Running).await;
    reported(&mut rx, B, InstanceState::Stopped).await;

    // A guest powered off from inside is seen and stays off (as Nova
    // does); one that crashed is started again.
    sim.power_off(A);
    let why = reported(&mut rx, A, InstanceState::Stopped).await.unwrap();
    assert!(why.contains("from inside"), "{why}");
    send(&cloud.bus, &node, &ensure(2, &a, Power::Running)).await;
    reported(&mut rx, A, InstanceState::Running).await;
    sim.crash(A);
    let why = reported(&mut rx, A, InstanceState::Running).await.unwrap();
    assert!(why.contains("crashed"), "{why}");

    // The agent restarts over the same hypervisor and ledger: same node,
    // nothing rebuilt, a full report with both; a foreign guest is listed
    // as unmanaged and left alone.
    agent.stop().await;
    let boots = sim.boots(A);
    sim.adopt_foreign(spec(C, "img-1", 64));
    let agent = start(sim.clone()).await;
    assert_eq!(agent.running.node, node);
    let report = loop {
        let AgentEvent::Report {
            node: n,
            instances,
            unmanaged,
            ..
        } = full_report(&mut rx).await
        else {
            unreachable!()
        };
        if n == node {
            break (instances, unmanaged);
        }
    };
    let states: Vec<_> = report
        .0
        .iter()
        .map(|s| (s.instance.as_str(), s.state))
        .collect();
    assert!(states.contains(&(A, InstanceState::Running)), "{states:?}");
    assert!(states.contains(&(B, InstanceState::Stopped)), "{states:?}");
    assert_eq!(report.1, vec![C.to_string()]);
    assert_eq!(sim.boots(A), boots, "a running guest is not restarted");
    assert!(sim.status(C).await.unwrap().is_some());

    // The host reboots (every guest shut off) and the agent with it: what
    // should run runs again, what should not stays off.
    agent.stop().await;
    sim.host_reboot();
    let agent = start(sim.clone()).await;
    let why = reported(&mut rx, A, InstanceState::Running).await.unwrap();
    assert!(why.contains("restarted"), "{why}");
    assert_eq!(sim.boots(A), boots + 1);
    assert_eq!(sim.status(B).await.unwrap(), Some(GuestState::Stopped));
    agent.stop().await;
}
