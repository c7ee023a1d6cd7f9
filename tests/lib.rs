//! Helpers for the end-to-end tests: a whole Virga started in-process on
//! free ports, embedded (SQLite + in-process bus) or distributed
//! (PostgreSQL + RabbitMQ from the test kit).

pub mod agents;
pub mod netns;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use virga_bus::{Bus, MemoryBroker};
use virga_common::Config;
use virga_common::config::SERVICE_NAMES;
use virga_service::Running;

/// A running set of services; stopped (gracefully) by [`Cloud::stop`].
pub struct Cloud {
    pub urls: BTreeMap<&'static str, String>,
    pub bus: Bus,
    pub config: Arc<Config>,
    /// The bootstrap admin's password (user `admin`, project `admin`).
    pub admin_password: String,
    shutdown: CancellationToken,
    running: Vec<Running>,
    _data_dir: tempfile::TempDir,
}

/// Where the services keep state and talk.
pub enum Backend {
    /// SQLite files in a temporary directory and a private in-process broker.
    Embedded,
    /// A fresh database per service on the shared test PostgreSQL and a fresh
    /// vhost on the shared test RabbitMQ.
    Distributed,
}

impl Cloud {
    pub async fn start(backend: Backend) -> Cloud {
        Self::start_with(backend, &[]).await
    }

    /// Starts with extra `VIRGA_*` configuration overrides.
    pub async fn start_with(backend: Backend, overrides: &[(&str, &str)]) -> Cloud {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut env: Vec<(String, String)> = SERVICE_NAMES
            .iter()
            .map(|s| {
                (
                    format!("VIRGA_SERVICES__{}__LISTEN", s.to_uppercase()),
                    "127.0.0.1:0".to_string(),
                )
            })
            .collect();
        env.push((
            "VIRGA_DATA_DIR".into(),
            data_dir.path().display().to_string(),
        ));
        env.push(("VIRGA_BUS__CALL_TIMEOUT_SECS".into(), "10".into()));
        env.extend(
            overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        if let Backend::Distributed = backend {
            let pg = virga_testkit::postgres::shared();
            for s in SERVICE_NAMES {
                env.push((
                    format!("VIRGA_SERVICES__{}__DATABASE_URL", s.to_uppercase()),
                    pg.fresh_database(),
                ));
            }
            // A test may bring its own broker (one it restarts).
            if !overrides.iter().any(|(k, _)| *k == "VIRGA_BUS__URL") {
                env.push((
                    "VIRGA_BUS__URL".into(),
                    virga_testkit::rabbitmq::shared().fresh_vhost(),
                ));
            }
        }
        let config = Arc::new(Config::load(None, env).expect("test config is valid"));
        let bus = match backend {
            Backend::Embedded => Bus::memory(&MemoryBroker::new()),
            Backend::Distributed => Bus::connect(&config.bus).await.expect("bus connects"),
        };
        let shutdown = CancellationToken::new();
        let running = virga::run::start_services(
            config.clone(),
            &SERVICE_NAMES,
            bus.clone(),
            shutdown.clone(),
        )
        .await
        .unwrap_or_else(|e| panic!("services start: {}", virga_common::error::chain(&e)));
        let urls = running.iter().map(|r| (r.name, r.url.clone())).collect();
        let admin_password = virga::bootstrap::run(&config, &running)
            .await
            .expect("bootstrap")
            .expect("a fresh cloud creates its admin")
            .password;
        Cloud {
            urls,
            bus,
            config,
            admin_password,
            shutdown,
            running,
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, service: &str) -> &str {
        &self.urls[service]
    }

    /// A token for `user` (default domain), scoped to `project` if given.
    pub async fn token(&self, user: &str, password: &str, project: Option<&str>) -> String {
        let mut auth = serde_json::json!({"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}}});
        if let Some(p) = project {
            auth["scope"] =
                serde_json::json!({"project": {"name": p, "domain": {"id": "default"}}});
        }
        let resp = reqwest::Client::new()
            .post(format!("{}/v3/auth/tokens", self.url("identity")))
            .json(&serde_json::json!({ "auth": auth }))
            .send()
            .await
            .expect("identity answers");
        assert_eq!(resp.status().as_u16(), 201, "login of {user}");
        resp.headers()["x-subject-token"]
            .to_str()
            .expect("ascii token")
            .to_string()
    }

    /// A new project `name` with a user `<name>-user` holding `role` in
    /// it: the user's token and the project's id.
    pub async fn user_with_role(&self, admin: &str, name: &str, role: &str) -> (String, String) {
        let identity = self.url("identity");
        let http = reqwest::Client::new();
        let post = |path: &str, body: Value| {
            http.post(format!("{identity}{path}"))
                .header("X-Auth-Token", admin)
                .json(&body)
                .send()
        };
        let p: Value = post("/v3/projects", json!({"project": {"name": name}}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let project = p["project"]["id"].as_str().unwrap().to_owned();
        let u: Value = post(
            "/v3/users",
            json!({"user": {"name": format!("{name}-user"), "password": "pw-123456"}}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let user = u["user"]["id"].as_str().unwrap();
        let roles: Value = http
            .get(format!("{identity}/v3/roles?name={role}"))
            .header("X-Auth-Token", admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let role = roles["roles"][0]["id"].as_str().unwrap();
        let r = http
            .put(format!(
                "{identity}/v3/projects/{project}/users/{user}/roles/{role}"
            ))
            .header("X-Auth-Token", admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        let token = self
            .token(&format!("{name}-user"), "pw-123456", Some(name))
            .await;
        (token, project)
    }

    pub async fn admin_token(&self) -> String {
        self.token("admin", &self.admin_password, Some("admin"))
            .await
    }

    /// Stops one service, as a crash would leave it: nothing of it runs,
    /// its database and its bus queues stay.
    pub async fn stop_service(&mut self, name: &str) {
        let i = self
            .running
            .iter()
            .position(|r| r.name == name)
            .unwrap_or_else(|| panic!("{name} is not running"));
        self.running.remove(i).stop().await;
    }

    /// Starts a service stopped by [`Cloud::stop_service`] again, on the
    /// same database and bus (on a new port: [`Cloud::url`] follows).
    pub async fn start_service(&mut self, name: &'static str) {
        let mut started = virga::run::start_services(
            self.config.clone(),
            &[name],
            self.bus.clone(),
            self.shutdown.child_token(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name} restarts: {}", virga_common::error::chain(&e)));
        let r = started.remove(0);
        self.urls.insert(name, r.url.clone());
        self.running.push(r);
        // The catalog names its new address.
        virga::bootstrap::run(&self.config, &self.running)
            .await
            .expect("bootstrap refreshes the catalog");
    }

    /// Stops every service and waits until each has finished its work.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for r in self.running {
            r.wait().await;
        }
        drop(self.bus);
    }
}
