//! Data plane benchmark: how long from `POST /v2.0/ports` (bound to a node)
//! until the port is `ACTIVE`, that is until the node's agent applied the
//! plan holding it (bridge, DHCP host, nftables filter) and said so. A whole
//! Virga (embedded on SQLite, or distributed on PostgreSQL + RabbitMQ from
//! the test kit) and one agent (simulated hypervisor) whose data plane is a
//! network namespace of the benchmark's own; `--existing` ports are made
//! first (the node's plan grows with them), then `--ports` ports one after
//! another. Prints latency percentiles for docs/benchmarks.md. Run it with
//! `scripts/bench-netplane.sh`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_common::config::AgentConfig;
use virga_tests::netns::TestNode;
use virga_tests::{Backend, Cloud};

struct Args {
    backend: String,
    ports: usize,
    existing: usize,
}

fn args() -> Args {
    let mut a = Args {
        backend: "embedded".into(),
        ports: 100,
        existing: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        let n = || {
            v.parse::<usize>()
                .unwrap_or_else(|_| panic!("{k}: not a number"))
        };
        match k.as_str() {
            "--backend" => a.backend = v.clone(),
            "--ports" => a.ports = n(),
            "--existing" => a.existing = n(),
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        p(0.5),
        p(0.9),
        p(0.99),
        p(1.0)
    )
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = http.request(method, url).header("X-Auth-Token", token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.expect("network answers");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Creates a port bound to `node`; returns its id.
async fn port(http: &reqwest::Client, base: &str, token: &str, net: &str, node: &str) -> String {
    let (s, v) = call(
        http,
        reqwest::Method::POST,
        &format!("{base}/v2.0/ports"),
        token,
        Some(json!({"port": {"network_id": net, "binding:host_id": node,
                             "device_owner": "compute:nova"}})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["port"]["id"].as_str().unwrap().to_owned()
}

/// Waits until the port is ACTIVE, polling every 5 ms.
async fn active(http: &reqwest::Client, base: &str, token: &str, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, v) = call(
            http,
            reqwest::Method::GET,
            &format!("{base}/v2.0/ports/{id}?fields=status"),
            token,
            None,
        )
        .await;
        if v["port"]["status"] == "ACTIVE" {
            return;
        }
        assert!(Instant::now() < deadline, "port {id} never turned ACTIVE");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let backend = match a.backend.as_str() {
        "embedded" => Backend::Embedded,
        "distributed" => Backend::Distributed,
        other => panic!("--backend {other}: embedded or distributed"),
    };
    let cloud = Cloud::start(backend).await;
    let admin = cloud.admin_token().await;
    let base = cloud.url("network").to_owned();
    let http = reqwest::Client::new();

    let place = TestNode::new("virga-bn");
    let config = place.agent_config(AgentConfig {
        site: "bench-site".into(),
        heartbeat_secs: 5,
        ..AgentConfig::default()
    });
    let shutdown = CancellationToken::new();
    let agent = virga_tests::agents::simulated(
        cloud.bus.clone(),
        place.data_dir(),
        config,
        Simulated::new(SimConfig::default()),
        shutdown.clone(),
    )
    .await;
    let node = agent.node.clone();

    let (s, net) = call(
        &http,
        reqwest::Method::POST,
        &format!("{base}/v2.0/networks"),
        &admin,
        Some(json!({"network": {"name": "bench"}})),
    )
    .await;
    assert_eq!(s, 201, "{net}");
    let net_id = net["network"]["id"].as_str().unwrap().to_owned();
    // More ports than the default quota: the admin project's is lifted.
    let project = net["network"]["project_id"].as_str().unwrap().to_owned();
    let (s, q) = call(
        &http,
        reqwest::Method::PUT,
        &format!("{base}/v2.0/quotas/{project}"),
        &admin,
        Some(json!({"quota": {"port": -1}})),
    )
    .await;
    assert_eq!(s, 200, "{q}");
    let (s, sub) = call(
        &http,
        reqwest::Method::POST,
        &format!("{base}/v2.0/subnets"),
        &admin,
        Some(json!({"subnet": {"network_id": net_id, "ip_version": 4, "cidr": "10.128.0.0/16"}})),
    )
    .await;
    assert_eq!(s, 201, "{sub}");
    // The node must have said hello before its ports can be planned.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut last = String::new();
    for _ in 0..a.existing {
        last = port(&http, &base, &admin, &net_id, &node).await;
    }
    if !last.is_empty() {
        active(&http, &base, &admin, &last).await;
    }
    let mut ms = Vec::with_capacity(a.ports);
    for _ in 0..a.ports {
        let t = Instant::now();
        let id = port(&http, &base, &admin, &net_id, &node).await;
        active(&http, &base, &admin, &id).await;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "backend {}: port create -> ACTIVE (filter applied) with {} ports already on the node, {} ports one by one: {}",
        a.backend,
        a.existing,
        a.ports,
        percentiles(ms)
    );
    shutdown.cancel();
    agent.wait().await;
    cloud.stop().await;
    drop(place);
}
