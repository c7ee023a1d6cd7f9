//! Scheduler benchmark: a whole Virga (embedded on SQLite, or distributed
//! on PostgreSQL + RabbitMQ from the test kit), `--sites` sites of
//! `--nodes` nodes each registered by agents' bus calls, then `--selects`
//! `POST /scheduler/v1/select` calls (each claiming 1 VCPU and 512 MB;
//! `--rounds` times, each round printed)
//! from `--callers` concurrent callers, then `GET /allocation_candidates`
//! calls. Prints throughput and latency percentiles for
//! docs/benchmarks.md. Run it with `scripts/bench-scheduler.sh`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use virga_bus::Context;
use virga_protocol::scheduler::TOPIC;
use virga_tests::{Backend, Cloud};

struct Args {
    backend: String,
    sites: usize,
    nodes: usize,
    selects: usize,
    callers: usize,
    candidates: usize,
    rounds: usize,
}

fn args() -> Args {
    let mut a = Args {
        backend: "embedded".into(),
        sites: 200,
        nodes: 50,
        selects: 2000,
        callers: 8,
        candidates: 100,
        rounds: 1,
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
            "--sites" => a.sites = n(),
            "--nodes" => a.nodes = n(),
            "--selects" => a.selects = n(),
            "--callers" => a.callers = n(),
            "--candidates" => a.candidates = n(),
            "--rounds" => a.rounds = n(),
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

const KINDS: [&str; 4] = ["idc", "mec", "aio", "gateway"];

fn node_id(site: usize, node: usize) -> String {
    format!("b0000000-0000-4000-8000-{:06}{:06}", site, node)
}

fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        p(0.5),
        p(0.9),
        p(0.99),
        p(1.0)
    )
}

async fn service_token(cloud: &Cloud) -> String {
    let admin = cloud.admin_token().await;
    cloud.user_with_role(&admin, "service", "service").await.0
}

/// Registers every node over the bus, `par` at a time.
async fn seed(cloud: &Cloud, a: &Args) {
    let started = Instant::now();
    let all: Vec<(usize, usize)> = (0..a.sites)
        .flat_map(|s| (0..a.nodes).map(move |n| (s, n)))
        .collect();
    let par = 16;
    let chunks: Vec<Vec<(usize, usize)>> = all
        .chunks(all.len().div_ceil(par))
        .map(|c| c.to_vec())
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let bus = cloud.bus.clone();
        tasks.push(tokio::spawn(async move {
            for (s, n) in chunk {
                let args = json!({
                    "node": node_id(s, n),
                    "site": {"name": format!("site-{s}"), "kind": KINDS[s % 4], "region": format!("region-{}", s % 10)},
                    "hostname": format!("site-{s}-node-{n}"), "kind": "mec",
                    "arch": if n % 5 == 0 { "aarch64" } else { "x86_64" },
                    "inventories": {"VCPU": {"total": 64, "allocation_ratio": 4.0}, "MEMORY_MB": {"total": 262144}, "DISK_GB": {"total": 2000}},
                });
                bus.call(TOPIC, "register", args, &Context::default(), Duration::from_secs(60)).await.expect("register");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = a.sites * a.nodes;
    println!(
        "seeded {n} nodes in {} sites in {:.1} s ({:.0} registrations/s)",
        a.sites,
        started.elapsed().as_secs_f64(),
        n as f64 / started.elapsed().as_secs_f64()
    );
}

/// One round of selects; `round` keeps each round's consumers new.
async fn selects(cloud: &Cloud, token: &str, a: &Args, round: usize) {
    let url = format!("{}/scheduler/v1/select", cloud.url("scheduler"));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..a.callers {
        let (url, token, n) = (url.clone(), token.to_owned(), a.selects / a.callers);
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut lat = Vec::new();
            for i in 0..n {
                let body = json!({"consumers": [format!("c0000000-0000-4{round:03}-8000-{:04}{:08}", c, i)],
                    "project_id": "p", "user_id": "u", "resources": {"VCPU": 1, "MEMORY_MB": 512}});
                let t = Instant::now();
                let r = http.post(&url).header("X-Auth-Token", &token).json(&body).send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap_or_default());
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "select + claim: {} placements by {} callers in {:.1} s: {:.1} placements/s; {}",
        all.len(),
        a.callers,
        secs,
        all.len() as f64 / secs,
        percentiles(all)
    );
}

async fn candidates(cloud: &Cloud, token: &str, a: &Args) {
    let http = reqwest::Client::new();
    for (what, q) in [
        (
            "resources, limit 1000",
            "resources=VCPU:1,MEMORY_MB:512&limit=1000",
        ),
        (
            "resources + required trait + limit 1000",
            "resources=VCPU:1,MEMORY_MB:512&required=HW_ARCH_AARCH64&limit=1000",
        ),
    ] {
        let mut lat = Vec::new();
        let mut count = 0;
        for _ in 0..a.candidates {
            let t = Instant::now();
            let r = http
                .get(format!(
                    "{}/allocation_candidates?{q}",
                    cloud.url("scheduler")
                ))
                .header("X-Auth-Token", token)
                .header("OpenStack-API-Version", "placement 1.29")
                .send()
                .await
                .unwrap();
            let v: Value = r.json().await.unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            count = v["allocation_requests"].as_array().map_or(0, Vec::len);
        }
        println!(
            "allocation_candidates ({what}; {count} returned): {} calls, {}",
            a.candidates,
            percentiles(lat)
        );
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    // Warnings and errors (a select's 500 says why here).
    let log = virga_common::config::LogConfig {
        level: "warn".into(),
        ..Default::default()
    };
    virga_common::logging::init(&log).expect("log level");
    let backend = match a.backend.as_str() {
        "embedded" => Backend::Embedded,
        "distributed" => Backend::Distributed,
        b => panic!("--backend embedded|distributed, not {b}"),
    };
    // The bench measures scheduling, not logging.
    // No agents heartbeat here: nodes stay "up" for the whole run.
    let cloud = Cloud::start_with(
        backend,
        &[
            ("VIRGA_LOG__LEVEL", "warn"),
            ("VIRGA_SCHEDULER__NODE_STALE_SECS", "86400"),
        ],
    )
    .await;
    let token = service_token(&cloud).await;
    println!(
        "backend {}: {} sites x {} nodes",
        a.backend, a.sites, a.nodes
    );
    seed(&cloud, &a).await;
    for round in 0..a.rounds {
        selects(&cloud, &token, &a, round).await;
    }
    candidates(&cloud, &token, &a).await;
    cloud.stop().await;
}
