//! The `virga` binary as a user runs it: `virga up` starts every service and
//! stops cleanly on SIGTERM; bad configuration, a port in use or an
//! unreachable database end in one clear line and a non-zero exit.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use virga_common::config::SERVICE_NAMES as SERVICES;

fn virga(args: &[&str], data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_virga"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("VIRGA_DATA_DIR", data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for s in SERVICES {
        cmd.env(
            format!("VIRGA_SERVICES__{}__LISTEN", s.to_uppercase()),
            "127.0.0.1:0",
        );
    }
    cmd
}

/// Reads `virga up`'s endpoint lines until the ready line; returns the
/// endpoints and every `virga:` line (the ready line last).
fn wait_ready(child: &mut Child) -> (BTreeMap<String, String>, String) {
    let stdout = child.stdout.take().unwrap();
    let mut urls = BTreeMap::new();
    let mut notes = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.starts_with("virga:") {
            notes.push_str(&line);
            notes.push('\n');
            if line.contains("ready in") {
                return (urls, notes);
            }
            continue;
        }
        let mut parts = line.split_whitespace();
        if let (Some(name), Some(url)) = (parts.next(), parts.next()) {
            urls.insert(name.to_string(), url.to_string());
        }
    }
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    panic!("virga up exited before it was ready: {err}");
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("virga did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[tokio::test]
async fn up_serves_every_service_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = virga(&["up"], dir.path()).spawn().unwrap();
    let (urls, ready) = wait_ready(&mut child);
    assert!(ready.contains("6 service(s) ready"), "{ready}");
    assert!(ready.contains("virga: agent of node"), "{ready}");
    assert_eq!(urls.len(), 6, "{urls:?}");
    for (name, url) in &urls {
        let health: serde_json::Value = reqwest::get(format!("{url}/healthz"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health["status"], "ok", "{name}");
        let status = reqwest::get(format!("{url}/"))
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(status == 200 || status == 300, "{name}: {status}");
        assert!(
            dir.path().join(format!("{name}.db")).exists(),
            "{name} has its own SQLite file"
        );
    }
    sigterm(&child);
    let status = wait_exit(&mut child, Duration::from_secs(20));
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
}

/// Runs `virga` expecting failure; returns its stderr.
fn fails(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "expected failure, got success: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "no panic trace: {stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("virga: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "exactly one error line: {stderr}");
    errors[0].to_string()
}

#[test]
fn bad_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = virga(&["up"], dir.path());
    cmd.env("VIRGA_BUS__CALL_TIMEOUT_SECS", "soon");
    let line = fails(cmd);
    assert!(line.contains("bus.call_timeout_secs"), "{line}");
    assert!(line.contains("VIRGA_BUS__CALL_TIMEOUT_SECS"), "{line}");

    let file = dir.path().join("virga.toml");
    std::fs::write(&file, "[services.compute]\nlistn = \"x\"\n").unwrap();
    let line = fails(virga(
        &["up", "--config", file.to_str().unwrap()],
        dir.path(),
    ));
    assert!(
        line.contains("listn") && line.contains("virga.toml"),
        "{line}"
    );
}

#[test]
fn port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = virga(&["up"], dir.path());
    cmd.env("VIRGA_SERVICES__IMAGE__LISTEN", &addr);
    let line = fails(cmd);
    assert!(line.contains(&format!("cannot listen on {addr}")), "{line}");
    assert!(line.contains("services.image.listen"), "{line}");
}

#[test]
fn unreachable_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = virga(&["up"], dir.path());
    cmd.env(
        "VIRGA_DATABASE__URL",
        "postgres://virga:hunter2@127.0.0.1:1/virga_{service}?sslmode=disable",
    );
    let line = fails(cmd);
    assert!(line.contains("cannot connect to database"), "{line}");
    assert!(!line.contains("hunter2"), "password hidden: {line}");
}

#[test]
fn unknown_service_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let line = fails(virga(&["serve", "volumes"], dir.path()));
    assert!(line.contains("unknown service `volumes`"), "{line}");
}

/// The distributed shape: identity and compute as two processes sharing a
/// PostgreSQL server and a RabbitMQ vhost; compute gets its token keys from
/// identity over the broker and only then reports healthy.
#[tokio::test]
async fn serve_runs_services_as_processes_on_postgres_and_rabbitmq() {
    let database = virga_testkit::postgres::shared().fresh_database();
    let bus = virga_testkit::rabbitmq::shared().fresh_vhost();
    let spawn = |service: &str, dir: &std::path::Path| {
        let mut cmd = virga(&["serve", service], dir);
        // Each service on its own database of the same server.
        cmd.env(
            "VIRGA_DATABASE__URL",
            database.replace("?", &format!("_{service}?")),
        )
        .env("VIRGA_BUS__URL", &bus);
        cmd.spawn().unwrap()
    };
    let (dir_i, dir_c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut identity = spawn("identity", dir_i.path());
    let (_, ready) = wait_ready(&mut identity);
    assert!(ready.contains("1 service(s) ready"), "{ready}");
    let mut compute = spawn("compute", dir_c.path());
    let (urls, _) = wait_ready(&mut compute);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let health: serde_json::Value = reqwest::get(format!("{}/healthz", urls["compute"]))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if health["checks"]
            == serde_json::json!({"database": "ok", "bus": "ok", "identity_keys": "ok"})
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        dir_c.path().join("compute-keys.json").exists(),
        "compute keeps the keys it learnt, for a restart without identity"
    );
    for mut child in [compute, identity] {
        sigterm(&child);
        assert!(wait_exit(&mut child, Duration::from_secs(20)).success());
    }
}

/// `virga up` bootstraps an admin once, shows its password once, writes a
/// private clouds.yaml, and puts every running service in the catalog.
#[tokio::test]
async fn up_bootstraps_an_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = virga(&["up"], dir.path()).spawn().unwrap();
    let (urls, notes) = wait_ready(&mut child);
    let password = notes
        .split("with password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password shown: {notes}"))
        .to_string();
    let clouds = dir.path().join("clouds.yaml");
    let text = std::fs::read_to_string(&clouds).unwrap();
    assert!(text.contains(&password) && text.contains(&format!("{}/v3", urls["identity"])));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&clouds).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "only its owner may read the password");

    let login = |url: String, password: String| async move {
        let body = serde_json::json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": password}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}});
        let resp = reqwest::Client::new()
            .post(format!("{url}/v3/auth/tokens"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json::<serde_json::Value>().await.unwrap())
    };
    let (status, body) = login(urls["identity"].clone(), password.clone()).await;
    assert_eq!(status, 201, "{body}");
    let types: Vec<&str> = body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    for t in [
        "identity",
        "compute",
        "image",
        "network",
        "placement",
        "metric",
    ] {
        assert!(types.contains(&t), "{t} in the catalog: {types:?}");
    }
    sigterm(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(20)).success());

    // A second start keeps the admin, says nothing of passwords, and points
    // clouds.yaml at the new identity URL.
    let mut child = virga(&["up"], dir.path()).spawn().unwrap();
    let (urls, notes) = wait_ready(&mut child);
    assert!(!notes.contains("password"), "{notes}");
    let text = std::fs::read_to_string(&clouds).unwrap();
    assert!(text.contains(&format!("{}/v3", urls["identity"])), "{text}");
    let (status, _) = login(urls["identity"].clone(), password).await;
    assert_eq!(status, 201);
    sigterm(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(20)).success());
}

#[test]
fn agent_refuses_a_damaged_ledger_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("agent/ledger.db");
    std::fs::create_dir_all(ledger.parent().unwrap()).unwrap();
    let garbage = b"not a ledger: a disk that lost its mind ".repeat(200);
    std::fs::write(&ledger, &garbage).unwrap();
    let mut child = virga(&["agent"], dir.path())
        .env("VIRGA_AGENT__DRIVER", "simulated")
        .spawn()
        .unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(30));
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(!status.success());
    assert!(
        err.contains("virga: error: agent: the ledger") && err.contains("Move the file aside"),
        "{err}"
    );
    assert_eq!(std::fs::read(&ledger).unwrap(), garbage);
}
