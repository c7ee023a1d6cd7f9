//! Compute benchmark: a whole Virga (embedded on SQLite, or distributed on
//! PostgreSQL + RabbitMQ from the test kit) and `--nodes` nodes on the
//! simulated hypervisor with no delay, so what is measured is the control plane:
//! `POST /v2.1/servers` until the server shows ACTIVE (polled every
//! `--poll-ms`), at each concurrency of `--levels`, `--servers` servers a
//! level. Then (with `--sustained N`) the cloud's build rate: N creates
//! posted by 32 callers that do not wait for each server (as a deployment
//! tool or a burst of users does), timed from the first POST until no
//! server of the project is in BUILD, watched by one list call every 50
//! ms. Then (with `--detail N`) `GET /v2.1/servers/detail` with N
//! servers in the project. Prints the figures for docs/benchmarks.md. Run
//! it with `scripts/bench-compute.sh`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_common::config::AgentConfig;
use virga_tests::{Backend, Cloud};

struct Args {
    backend: String,
    servers: usize,
    levels: Vec<usize>,
    detail: usize,
    poll_ms: u64,
    nodes: usize,
    sustained: usize,
}

fn args() -> Args {
    let mut a = Args {
        backend: "embedded".into(),
        servers: 200,
        levels: vec![1, 8, 32],
        detail: 0,
        poll_ms: 20,
        nodes: 4,
        sustained: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        let n = |s: &str| {
            s.parse::<usize>()
                .unwrap_or_else(|_| panic!("{k}: not a number"))
        };
        match k.as_str() {
            "--backend" => a.backend = v.clone(),
            "--servers" => a.servers = n(&v),
            "--levels" => a.levels = v.split(',').map(n).collect(),
            "--detail" => a.detail = n(&v),
            "--poll-ms" => a.poll_ms = n(&v) as u64,
            "--nodes" => a.nodes = n(&v),
            "--sustained" => a.sustained = n(&v),
            _ => panic!("unknown option {k}"),
        }
    }
    a
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

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-Auth-Token", &self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.expect("the service answers");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

/// One server from POST until ACTIVE; its milliseconds.
async fn create(api: &Api, image: &str, n: usize, poll: Duration) -> f64 {
    let t = Instant::now();
    let body = json!({"server": {"name": format!("s{n}"), "imageRef": image, "flavorRef": "b1"}});
    let (s, v) = api
        .call(reqwest::Method::POST, "/v2.1/servers", Some(body))
        .await;
    assert_eq!(s, 202, "{v}");
    let id = v["server"]["id"].as_str().unwrap().to_owned();
    loop {
        let (_, v) = api
            .call(reqwest::Method::GET, &format!("/v2.1/servers/{id}"), None)
            .await;
        match v["server"]["status"].as_str() {
            Some("ACTIVE") => return t.elapsed().as_secs_f64() * 1000.0,
            Some("ERROR") => panic!("server {id} failed: {v}"),
            _ => tokio::time::sleep(poll).await,
        }
    }
}

/// `total` creates posted by `callers` callers that do not wait for the
/// servers: the seconds until the last POST was answered, and until no
/// server of the project is in BUILD.
async fn burst(api: &Arc<Api>, image: &str, callers: usize, total: usize) -> (f64, f64) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let posters: Vec<_> = (0..callers)
        .map(|_| {
            let (api, image, next) = (api.clone(), image.to_owned(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return;
                    }
                    let body = json!({"server": {"name": format!("b{n}"), "imageRef": image, "flavorRef": "b1"}});
                    let (s, v) = api
                        .call(reqwest::Method::POST, "/v2.1/servers", Some(body))
                        .await;
                    assert_eq!(s, 202, "{v}");
                }
            })
        })
        .collect();
    for p in posters {
        p.await.unwrap();
    }
    let posted = start.elapsed().as_secs_f64();
    loop {
        let (s, v) = api
            .call(
                reqwest::Method::GET,
                "/v2.1/servers?status=BUILD&limit=1",
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        if v["servers"].as_array().is_some_and(|a| a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let built = start.elapsed().as_secs_f64();
    let (_, v) = api
        .call(
            reqwest::Method::GET,
            "/v2.1/servers?status=ERROR&limit=1",
            None,
        )
        .await;
    assert_eq!(
        v["servers"].as_array().map(Vec::len),
        Some(0),
        "a server failed: {v}"
    );
    (posted, built)
}

/// `total` creates from `callers` concurrent callers: their times and the
/// wall clock.
async fn level(
    api: &Arc<Api>,
    image: &str,
    callers: usize,
    total: usize,
    poll: Duration,
) -> (Vec<f64>, f64) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (api, image, next) = (api.clone(), image.to_owned(), next.clone());
            tokio::spawn(async move {
                let mut ms = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return ms;
                    }
                    ms.push(create(&api, &image, n, poll).await);
                }
            })
        })
        .collect();
    let mut ms = Vec::new();
    for t in tasks {
        ms.extend(t.await.unwrap());
    }
    (ms, start.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() {
    let a = args();
    let backend = match a.backend.as_str() {
        "embedded" => Backend::Embedded,
        "distributed" => Backend::Distributed,
        other => panic!("--backend {other}: embedded or distributed"),
    };
    // Quotas out of the way: the benchmark makes thousands of servers.
    let cloud = Cloud::start_with(
        backend,
        &[
            ("VIRGA_COMPUTE__QUOTA__INSTANCES", "-1"),
            ("VIRGA_COMPUTE__QUOTA__CORES", "-1"),
            ("VIRGA_COMPUTE__QUOTA__RAM", "-1"),
        ],
    )
    .await;
    let admin = cloud.admin_token().await;
    let (token, _) = cloud.user_with_role(&admin, "bench", "member").await;
    let http = reqwest::Client::new();
    let nova = |token: &str| Api {
        http: http.clone(),
        base: cloud.url("compute").to_owned(),
        token: token.to_owned(),
    };

    // `--nodes` nodes (agents of this host, each its own node), their
    // capacity raised so thousands of 1-vCPU servers fit.
    let placement = Api {
        http: http.clone(),
        base: cloud.url("scheduler").to_owned(),
        token: admin.clone(),
    };
    let shutdown = CancellationToken::new();
    let mut agents = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..a.nodes {
        let dir = tempfile::tempdir().unwrap();
        let mut config = AgentConfig {
            site: "bench".into(),
            heartbeat_secs: 5,
            ..AgentConfig::default()
        };
        config.network.dataplane = false;
        let agent = virga_tests::agents::simulated(
            cloud.bus.clone(),
            dir.path().to_owned(),
            config,
            Simulated::new(SimConfig::default()),
            shutdown.clone(),
        )
        .await;
        let node = agent.node.clone();
        let inv = loop {
            let path = format!("/resource_providers/{node}/inventories");
            let (s, v) = placement.call(reqwest::Method::GET, &path, None).await;
            if s == 200 && v["inventories"].get("VCPU").is_some() {
                break v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let mut raised = inv.clone();
        for class in ["VCPU", "MEMORY_MB"] {
            raised["inventories"][class]["allocation_ratio"] = json!(10_000.0);
        }
        let path = format!("/resource_providers/{node}/inventories");
        let (s, v) = placement
            .call(reqwest::Method::PUT, &path, Some(raised))
            .await;
        assert_eq!(s, 200, "{v}");
        agents.push(agent);
        dirs.push(dir);
    }

    let (s, v) = nova(&admin)
        .call(
            reqwest::Method::POST,
            "/v2.1/flavors",
            Some(
                json!({"flavor": {"name": "bench", "id": "b1", "ram": 64, "vcpus": 1, "disk": 0}}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let glance = |path: &str| format!("{}{path}", cloud.url("image"));
    let img: Value = http
        .post(glance("/v2/images"))
        .header("X-Auth-Token", &token)
        .json(&json!({"name": "bench", "disk_format": "raw", "container_format": "bare"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let image = img["id"].as_str().unwrap().to_owned();
    let r = http
        .put(glance(&format!("/v2/images/{image}/file")))
        .header("X-Auth-Token", &token)
        .header("Content-Type", "application/octet-stream")
        .body(vec![0u8; 64 << 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);

    let api = Arc::new(nova(&token));
    let poll = Duration::from_millis(a.poll_ms);
    println!(
        "backend {}: {} nodes; create -> ACTIVE, {} servers a level, polled every {} ms",
        a.backend, a.nodes, a.servers, a.poll_ms
    );
    // Warm-up: the first build fetches the image into the node's cache.
    level(&api, &image, 1, 3, poll).await;
    let mut made = 3;
    for &c in &a.levels {
        let (ms, secs) = level(&api, &image, c, a.servers, poll).await;
        made += ms.len();
        println!(
            "  {c:>2} concurrent: {:.0} creates/s; {}",
            ms.len() as f64 / secs,
            percentiles(ms)
        );
    }
    if a.sustained > 0 {
        let (posted, built) = burst(&api, &image, 32, a.sustained).await;
        made += a.sustained;
        println!(
            "  sustained: {} creates from 32 callers not waiting: posted in {posted:.1} s ({:.0}/s), all ACTIVE after {built:.1} s: {:.0} creates/s",
            a.sustained,
            a.sustained as f64 / posted,
            a.sustained as f64 / built
        );
    }
    if a.detail > made {
        let (_, secs) = level(&api, &image, 32, a.detail - made, poll).await;
        println!("  filled to {} servers in {secs:.0} s", a.detail);
    }
    if a.detail > 0 {
        let mut ms = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let (s, v) = api
                .call(reqwest::Method::GET, "/v2.1/servers/detail", None)
                .await;
            assert_eq!(s, 200);
            assert_eq!(v["servers"].as_array().unwrap().len(), a.detail.min(1000));
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "  GET /v2.1/servers/detail (a page of 1,000) with {} servers: {}",
            a.detail,
            percentiles(ms)
        );
    }
    shutdown.cancel();
    for agent in agents {
        agent.wait().await;
    }
    cloud.stop().await;
}
