//! End-to-end token benchmark: a real identity service (SQLite, in-process
//! bus, release build) issuing tokens over HTTP by password, and the local
//! validation a service does on each request.
//!
//! `cargo run --release -p virga-identity --example token_bench [seconds]`
//! Prints tokens issued per second (password method: a database read, an
//! argon2id check and an EdDSA signature per token, with 2 client tasks per
//! core) and validations per second of fresh tokens through the same
//! `Authenticator` every service uses, on one thread.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;
use virga_bus::{Bus, MemoryBroker};
use virga_common::Config;
use virga_identity::Identity;
use virga_identity::app::bootstrap::{self, Bootstrap};
use virga_identity::migrations::Migrator;

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "VIRGA_DATA_DIR".to_string(),
            dir.path().display().to_string(),
        ),
        (
            "VIRGA_SERVICES__IDENTITY__LISTEN".to_string(),
            "127.0.0.1:0".to_string(),
        ),
        ("VIRGA_LOG__LEVEL".to_string(), "warn".to_string()),
        // The benchmark logs in as one user over and over; no lockout applies
        // to successful logins, but keep it out of the way regardless.
        (
            "VIRGA_AUTH__MAX_FAILED_LOGINS".to_string(),
            "1000000".to_string(),
        ),
    ];
    let config = Arc::new(Config::load(None, env).unwrap());
    let db = virga_db::connect_and_migrate::<Migrator>(&config.database_url("identity"), 2)
        .await
        .unwrap();
    bootstrap::run(
        &db,
        &Bootstrap {
            admin_user: "admin".into(),
            admin_password: "bench-password".into(),
            admin_project: "admin".into(),
            region: "RegionOne".into(),
            endpoints: vec![],
        },
    )
    .await
    .unwrap();
    let shutdown = CancellationToken::new();
    let bus = Bus::memory(&MemoryBroker::new());
    let running = virga_service::start::<Identity>(config, bus, shutdown.clone())
        .await
        .unwrap();
    let url = format!("{}/v3/auth/tokens?nocatalog", running.url);
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": "bench-password"}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}});

    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let tasks = 2 * std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        handles.push(tokio::spawn(async move {
            let mut tokens = Vec::new();
            while Instant::now() < deadline {
                let resp = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(resp.status().as_u16(), 201);
                tokens.push(
                    resp.headers()["x-subject-token"]
                        .to_str()
                        .unwrap()
                        .to_string(),
                );
            }
            tokens
        }));
    }
    let mut tokens = Vec::new();
    for h in handles {
        tokens.extend(h.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "password token issue over HTTP: {} tokens in {elapsed:.1} s = {:.0}/s ({tasks} client tasks)",
        tokens.len(),
        tokens.len() as f64 / elapsed
    );

    // Validation as a service does it: every token seen for the first time.
    let jwks = reqwest::get(format!("{}/v3/auth/jwks", running.url))
        .await
        .unwrap()
        .json::<virga_auth::Jwks>()
        .await
        .unwrap();
    let verifier = virga_auth::Verifier::new("virga", &jwks).unwrap();
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    let started = Instant::now();
    for t in &tokens {
        verifier.verify(t, now).unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "first-seen token validation, one thread: {:.0}/s",
        tokens.len() as f64 / elapsed
    );
    shutdown.cancel();
    running.wait().await;
}
