//! Network benchmark: a whole Virga (embedded on SQLite, or distributed on
//! PostgreSQL + RabbitMQ from the test kit), one tenant network with a /16
//! subnet, then `--ports` `POST /v2.0/ports` calls (each taking an address
//! from the pool) from `--callers` concurrent callers, `--rounds` times.
//! Afterwards every port's address is read back and checked: no address
//! held twice, none lost. Prints throughput and latency percentiles for
//! docs/benchmarks.md. Run it with `scripts/bench-network.sh`.

use std::collections::HashSet;
use std::time::Instant;

use serde_json::{Value, json};
use virga_tests::{Backend, Cloud};

struct Args {
    backend: String,
    ports: usize,
    callers: usize,
    rounds: usize,
}

fn args() -> Args {
    let mut a = Args {
        backend: "embedded".into(),
        ports: 4000,
        callers: 16,
        rounds: 3,
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
            "--callers" => a.callers = n(),
            "--rounds" => a.rounds = n(),
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

async fn post(http: &reqwest::Client, url: &str, token: &str, body: Value) -> (u16, Value) {
    let r = http
        .post(url)
        .header("X-Auth-Token", token)
        .json(&body)
        .send()
        .await
        .expect("network answers");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Every address of the network's ports, read page by page.
async fn addresses(http: &reqwest::Client, base: &str, token: &str, net: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut url =
            format!("{base}/v2.0/ports?network_id={net}&fields=id&fields=fixed_ips&limit=1000");
        if let Some(m) = &marker {
            url.push_str(&format!("&marker={m}"));
        }
        let page: Value = http
            .get(&url)
            .header("X-Auth-Token", token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ports = page["ports"].as_array().unwrap();
        for p in ports {
            for f in p["fixed_ips"].as_array().unwrap() {
                out.push(f["ip_address"].as_str().unwrap().to_owned());
            }
        }
        if ports.len() < 1000 {
            return out;
        }
        marker = ports.last().map(|p| p["id"].as_str().unwrap().to_owned());
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
    let (token, project) = cloud.user_with_role(&admin, "bench", "member").await;
    let base = cloud.url("network").to_owned();
    let http = reqwest::Client::new();
    // More ports than the default quota: the project's is lifted.
    let r = http
        .put(format!("{base}/v2.0/quotas/{project}"))
        .header("X-Auth-Token", &admin)
        .json(&json!({"quota": {"port": -1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (s, net) = post(
        &http,
        &format!("{base}/v2.0/networks"),
        &token,
        json!({"network": {"name": "bench"}}),
    )
    .await;
    assert_eq!(s, 201, "{net}");
    let net_id = net["network"]["id"].as_str().unwrap().to_owned();
    let (s, sub) = post(
        &http,
        &format!("{base}/v2.0/subnets"),
        &token,
        json!({"subnet": {"network_id": net_id, "ip_version": 4, "cidr": "10.128.0.0/16"}}),
    )
    .await;
    assert_eq!(s, 201, "{sub}");
    println!(
        "backend {}: {} port creations per round from {} callers on one /16",
        a.backend, a.ports, a.callers
    );
    let mut made = 0usize;
    for round in 1..=a.rounds {
        let per = a.ports / a.callers;
        let start = Instant::now();
        let tasks: Vec<_> = (0..a.callers)
            .map(|_| {
                let (http, url, token, net) = (
                    http.clone(),
                    format!("{base}/v2.0/ports"),
                    token.clone(),
                    net_id.clone(),
                );
                tokio::spawn(async move {
                    let mut ms = Vec::with_capacity(per);
                    for _ in 0..per {
                        let t = Instant::now();
                        let (s, v) =
                            post(&http, &url, &token, json!({"port": {"network_id": net}})).await;
                        assert_eq!(s, 201, "{v}");
                        ms.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    ms
                })
            })
            .collect();
        let mut ms = Vec::new();
        for t in tasks {
            ms.extend(t.await.unwrap());
        }
        let secs = start.elapsed().as_secs_f64();
        made += ms.len();
        println!(
            "  round {round}: {} ports in {secs:.2} s = {:.0} ports/s; {}",
            ms.len(),
            ms.len() as f64 / secs,
            percentiles(ms)
        );
    }
    let ips = addresses(&http, &base, &token, &net_id).await;
    let unique: HashSet<&String> = ips.iter().collect();
    println!(
        "  addresses: {} held by {} ports, {} distinct (duplicates: {})",
        ips.len(),
        made,
        unique.len(),
        ips.len() - unique.len()
    );
    assert_eq!(ips.len(), made, "one address per port");
    assert_eq!(unique.len(), ips.len(), "no address twice");
    cloud.stop().await;
}
