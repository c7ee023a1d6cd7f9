//! Control-plane scale benchmark: `--agents` edge agents on the simulated
//! driver in this one process (each with its own ledger, cache and queue),
//! against a whole Virga (embedded: SQLite and the in-process bus; or
//! `--backend distributed`: PostgreSQL and RabbitMQ from the test kit), at
//! the agents' default rhythms (heartbeat 10 s, reconcile 5 s).
//!
//! Measures: how long until the scheduler lists every node `up` (no
//! manual step), the process's resident memory per agent, how long until
//! one instance on every node reports running, and the process's CPU use
//! while everything idles for `--idle-secs`, after which every node must
//! still be `up`. Run it with `scripts/bench-agent-scale.sh`.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_common::config::AgentConfig;
use virga_protocol::agent::{AgentCommand, AgentEvent, InstanceState, Power};
use virga_tests::agents::{self, instance_spec};
use virga_tests::{Backend, Cloud};

struct Args {
    agents: usize,
    sites: usize,
    idle_secs: u64,
    backend: Backend,
}

fn args() -> Args {
    let mut a = Args {
        agents: 1000,
        sites: 50,
        idle_secs: 60,
        backend: Backend::Embedded,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        let n = || v.parse().unwrap_or_else(|_| panic!("{k}: a number"));
        match k.as_str() {
            "--agents" => a.agents = n(),
            "--sites" => a.sites = n(),
            "--idle-secs" => a.idle_secs = n() as u64,
            "--backend" => {
                a.backend = match v.as_str() {
                    "embedded" => Backend::Embedded,
                    "distributed" => Backend::Distributed,
                    _ => panic!("--backend: embedded or distributed"),
                }
            }
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

/// This process's VmRSS in MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// This process's CPU time (user + system) in seconds.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    (f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()) as f64 / 100.0
}

/// Nodes the scheduler lists as `up`.
async fn nodes_up(http: &reqwest::Client, cloud: &Cloud, token: &str) -> usize {
    let resp = http
        .get(format!("{}/scheduler/v1/nodes", cloud.url("scheduler")))
        .header("X-Auth-Token", token)
        .header("OpenStack-API-Version", "placement 1.0")
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    body["nodes"]
        .as_array()
        .map_or(0, |n| n.iter().filter(|n| n["state"] == "up").count())
}

#[tokio::main]
async fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let backend = match a.backend {
        Backend::Embedded => "embedded",
        Backend::Distributed => "distributed",
    };
    let cloud = Cloud::start_with(a.backend, &[]).await;
    let http = reqwest::Client::new();
    let admin = cloud.admin_token().await;
    let (_sub, mut events) = agents::events(&cloud.bus).await;
    let base_rss = rss_mib();
    println!(
        "{} agents in {} sites, one process ({backend} backend); before the agents: {base_rss:.0} MiB RSS",
        a.agents, a.sites
    );

    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let mut nodes = Vec::new();
    for i in 0..a.agents {
        let data_dir = dir.path().join(format!("node-{i}"));
        let base = data_dir.join("instances/_base");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(base.join("img"), b"disk").unwrap();
        let config = AgentConfig {
            site: format!("site-{}", i % a.sites),
            kind: "mec".into(),
            ..AgentConfig::default()
        };
        let sim = Simulated::new(SimConfig::default());
        let running =
            agents::simulated(cloud.bus.clone(), data_dir, config, sim, shutdown.clone()).await;
        nodes.push(running.node.clone());
    }
    let spawned = started.elapsed();
    let mut up = 0;
    while up < a.agents {
        tokio::time::sleep(Duration::from_millis(500)).await;
        up = nodes_up(&http, &cloud, &admin).await;
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "only {up} nodes up"
        );
    }
    let registered = started.elapsed();
    let rss = rss_mib();
    println!(
        "started in {:.1} s; all {} nodes up in the scheduler after {:.1} s; RSS {rss:.0} MiB ({:.0} KiB per agent)",
        spawned.as_secs_f64(),
        a.agents,
        registered.as_secs_f64(),
        (rss - base_rss) * 1024.0 / a.agents as f64
    );

    let t = Instant::now();
    for node in &nodes {
        let uuid = uuid::Uuid::new_v4().to_string();
        let ensure = AgentCommand::Ensure {
            request_id: format!("req-{node}"),
            generation: 1,
            spec: Box::new(instance_spec(
                &uuid,
                &format!("vm-{}", &uuid[..8]),
                "img",
                256,
            )),
            power: Power::Running,
        };
        agents::send(&cloud.bus, node, &ensure).await;
    }
    let mut running = 0;
    while running < nodes.len() {
        let ev = tokio::time::timeout(Duration::from_secs(600), events.recv())
            .await
            .expect("every instance runs")
            .unwrap();
        if let AgentEvent::InstanceState { status, .. } = ev
            && status.state == InstanceState::Running
        {
            running += 1;
        }
    }
    println!(
        "one instance on each node running {:.1} s after the first ensure ({:.0} instances/s)",
        t.elapsed().as_secs_f64(),
        a.agents as f64 / t.elapsed().as_secs_f64()
    );

    let (c0, w0) = (cpu_secs(), Instant::now());
    tokio::time::sleep(Duration::from_secs(a.idle_secs)).await;
    let cpu = (cpu_secs() - c0) / w0.elapsed().as_secs_f64() * 100.0;
    let up = nodes_up(&http, &cloud, &admin).await;
    println!(
        "idle {} s (heartbeats, reconciles): {cpu:.0}% of one core for the whole process, {:.3}% per agent; RSS {:.0} MiB; {up} of {} nodes up",
        a.idle_secs,
        cpu / a.agents as f64,
        rss_mib(),
        a.agents
    );
    assert_eq!(up, a.agents, "a node went down while idle");
    shutdown.cancel();
    cloud.stop().await;
}
