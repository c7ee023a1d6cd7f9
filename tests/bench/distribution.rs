//! Image distribution benchmark: how long until an image is present on
//! every node of several edge sites, and how many bytes leave the centre.
//!
//! A whole Virga (embedded) with `--sites` edge sites' stores, each read by
//! its nodes as mounted storage (`node_url` `file://…`), and
//! `--nodes-per-site` agents per site in this process on the simulated
//! driver, each with its own image cache. An image of `--mib` MiB is
//! uploaded, copied to every site (`copy-image`), then every node is asked
//! to pre-fetch it (`fetch_image`, with the sources
//! `GET /v2/images/{id}/locations` gives) until all say they hold it,
//! verified. The centre's signed URL is reached through a counting proxy,
//! so node downloads from the centre are measured; the copies to sites
//! are one image each. `--direct` leaves the sites' stores out (every node
//! fetches from the centre), for comparison. Run it with
//! `scripts/bench-distribution.sh`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_common::config::AgentConfig;
use virga_protocol::agent::{AgentCommand, AgentEvent, ImageRef, ImageSource};
use virga_tests::{Backend, Cloud, agents};

struct Args {
    sites: usize,
    nodes_per_site: usize,
    mib: usize,
    direct: bool,
}

fn args() -> Args {
    let mut a = Args {
        sites: 5,
        nodes_per_site: 10,
        mib: 64,
        direct: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--direct" {
            a.direct = true;
            continue;
        }
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        let n = || v.parse().unwrap_or_else(|_| panic!("{k}: a number"));
        match k.as_str() {
            "--sites" => a.sites = n(),
            "--nodes-per-site" => a.nodes_per_site = n(),
            "--mib" => a.mib = n(),
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

/// A TCP proxy to `to` counting the bytes it sends back to clients.
async fn counting_proxy(to: String) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let to = to.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(&to).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
                // Counted as it passes: pooled connections stay open.
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match sr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    counter.fetch_add(n as u64, Ordering::Relaxed);
                    if cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                up.abort();
            });
        }
    });
    (addr, sent)
}

async fn call(
    http: &reqwest::Client,
    token: &str,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, url).header("X-Auth-Token", token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let s = resp.status().as_u16();
    (s, resp.json().await.unwrap_or(Value::Null))
}

/// Copies the image to every site's store; how many copies were made.
async fn copy_to_sites(
    http: &reqwest::Client,
    admin: &str,
    image_url: &str,
    id: &str,
    sites: usize,
) -> usize {
    let (s, b) = call(
        http,
        admin,
        reqwest::Method::POST,
        format!("{image_url}/v2/images/{id}/import"),
        Some(json!({"method": {"name": "copy-image"}, "all_stores": true})),
    )
    .await;
    assert_eq!(s, 202, "{b}");
    loop {
        let (_, st) = call(
            http,
            admin,
            reqwest::Method::GET,
            format!("{image_url}/v2/images/{id}/stores"),
            None,
        )
        .await;
        let list = st["stores"].as_array().cloned().unwrap_or_default();
        if list.iter().any(|c| c["status"] == "failed") {
            panic!("a site copy failed: {st}");
        }
        let active = list.iter().filter(|c| c["status"] == "active").count();
        if active == sites + 1 {
            return active - 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let mut env: Vec<(String, String)> = Vec::new();
    for s in 0..a.sites {
        let path = dir.path().join(format!("store-{s}"));
        let key = format!("VIRGA_IMAGE__STORES__EDGE{s}");
        env.push((format!("{key}__PATH"), path.display().to_string()));
        if !a.direct {
            env.push((
                format!("{key}__NODE_URL"),
                format!("file://{}", path.display()),
            ));
        }
    }
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let cloud = Cloud::start_with(Backend::Embedded, &env_ref).await;
    let image_url = cloud.url("image").to_owned();
    let http = reqwest::Client::new();
    let admin = cloud.admin_token().await;
    let service = cloud.user_with_role(&admin, "nova", "service").await.0;

    // The agents: one per node, each with its own ledger and cache.
    let shutdown = CancellationToken::new();
    let mut nodes = Vec::new();
    for s in 0..a.sites {
        for n in 0..a.nodes_per_site {
            let data_dir = dir.path().join(format!("node-{s}-{n}"));
            let config = AgentConfig {
                site: format!("edge{s}"),
                kind: "mec".into(),
                ..AgentConfig::default()
            };
            let sim = Simulated::new(SimConfig::default());
            let running =
                agents::simulated(cloud.bus.clone(), data_dir, config, sim, shutdown.clone()).await;
            nodes.push(running.node.clone());
        }
    }
    let (_sub, mut events) = agents::events(&cloud.bus).await;

    // The image.
    let size = a.mib << 20;
    let data: Vec<u8> = (0..size as u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let (_, img) = call(
        &http,
        &admin,
        reqwest::Method::POST,
        format!("{image_url}/v2/images"),
        Some(json!({"name": "bench", "disk_format": "raw", "container_format": "bare"})),
    )
    .await;
    let id = img["id"].as_str().unwrap().to_owned();
    let put = http
        .put(format!("{image_url}/v2/images/{id}/file"))
        .header("X-Auth-Token", &admin)
        .header("Content-Type", "application/octet-stream")
        .body(data)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 204);
    let (_, img) = call(
        &http,
        &admin,
        reqwest::Method::GET,
        format!("{image_url}/v2/images/{id}"),
        None,
    )
    .await;

    println!(
        "{} sites x {} nodes, {} MiB image, {}",
        a.sites,
        a.nodes_per_site,
        a.mib,
        if a.direct {
            "nodes fetch from the centre"
        } else {
            "nodes fetch from their site's store"
        }
    );
    let started = Instant::now();
    let copies = if a.direct {
        0
    } else {
        copy_to_sites(&http, &admin, &image_url, &id, a.sites).await
    };
    let copied = started.elapsed();

    // Every node pre-fetches, the centre behind a counting proxy.
    let (s, locs) = call(
        &http,
        &service,
        reqwest::Method::GET,
        format!("{image_url}/v2/images/{id}/locations"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{locs}");
    let centre = image_url.trim_start_matches("http://").to_owned();
    let (proxy, from_centre) = counting_proxy(centre.clone()).await;
    let image = ImageRef {
        id: id.clone(),
        disk_format: "raw".into(),
        sha256: img["os_hash_value"].as_str().map(Into::into),
        arch: None,
        size: img["size"].as_u64(),
        sources: locs
            .as_array()
            .unwrap()
            .iter()
            .map(|l| ImageSource {
                store: l["metadata"]["store"].as_str().unwrap().into(),
                url: l["url"].as_str().unwrap().replace(&centre, &proxy),
            })
            .collect(),
    };
    let fetch_started = Instant::now();
    for node in &nodes {
        let fetch = AgentCommand::FetchImage {
            request_id: format!("pre-{node}"),
            image: image.clone(),
        };
        agents::send(&cloud.bus, node, &fetch).await;
    }
    let mut answered = 0;
    while answered < nodes.len() {
        let ev = tokio::time::timeout(Duration::from_secs(600), events.recv())
            .await
            .expect("every node answers")
            .unwrap();
        if let AgentEvent::Image { held, reason, .. } = ev {
            assert!(held, "a node failed: {reason:?}");
            answered += 1;
        }
    }
    let fetched = fetch_started.elapsed();
    let total = started.elapsed();
    let centre_bytes = copies as u64 * size as u64 + from_centre.load(Ordering::Relaxed);
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "copy to {copies} sites: {:.1} s; {} nodes fetched and verified: {:.1} s; present everywhere after {:.1} s",
        copied.as_secs_f64(),
        nodes.len(),
        fetched.as_secs_f64(),
        total.as_secs_f64()
    );
    println!(
        "bytes leaving the centre: {:.0} MiB = {:.1} x the image ({} site copies + {:.0} MiB of node downloads); one per node would be {} x",
        mib(centre_bytes),
        centre_bytes as f64 / size as f64,
        copies,
        mib(from_centre.load(Ordering::Relaxed)),
        nodes.len()
    );
    shutdown.cancel();
    cloud.stop().await;
}
