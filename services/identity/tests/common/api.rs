//! A running identity service for HTTP tests: bootstrapped (admin user and
//! project, default roles, a catalog), on SQLite or PostgreSQL, on an
//! in-process bus, bound to port 0; plus a small client that returns
//! status, body and headers, and `api_on_both!` to run a test on both backends.

use std::sync::Arc;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use virga_bus::{Bus, MemoryBroker};
use virga_common::Config;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::Identity;
use virga_identity::app::bootstrap::{self, Bootstrap, Bootstrapped};
use virga_identity::db::{assignment, project, role, user};
use virga_identity::migrations::Migrator;
use virga_service::Running;

pub const ADMIN_PASSWORD: &str = "admin-secret-1";

pub struct Api {
    pub url: String,
    pub client: Client,
    pub admin: Bootstrapped,
    pub admin_token: String,
    pub bus: Bus,
    pub db_url: String,
    /// The service's database, for set-up and for checking what was stored.
    pub db: DatabaseConnection,
    shutdown: CancellationToken,
    running: Option<Running>,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Api {
    pub async fn sqlite() -> Api {
        Self::start(None, &[]).await
    }

    pub async fn postgres() -> Api {
        let url = virga_testkit::postgres::shared().fresh_database();
        Self::start(Some(url), &[]).await
    }

    /// Starts identity with extra `VIRGA_*` settings.
    pub async fn start(db_url: Option<String>, extra: &[(&str, &str)]) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let db_url =
            db_url.unwrap_or_else(|| format!("sqlite://{}/identity.db", dir.path().display()));
        let mut env = vec![
            (
                "VIRGA_DATA_DIR".to_string(),
                dir.path().display().to_string(),
            ),
            (
                "VIRGA_SERVICES__IDENTITY__LISTEN".to_string(),
                "127.0.0.1:0".to_string(),
            ),
            (
                "VIRGA_SERVICES__IDENTITY__DATABASE_URL".to_string(),
                db_url.clone(),
            ),
        ];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Arc::new(Config::load(None, env).unwrap());

        let db = virga_db::connect_and_migrate::<Migrator>(&db_url, 2)
            .await
            .unwrap();
        let admin = bootstrap::run(
            &db,
            &Bootstrap {
                admin_user: "admin".into(),
                admin_password: ADMIN_PASSWORD.into(),
                admin_project: "admin".into(),
                region: "RegionOne".into(),
                endpoints: vec![(
                    "compute".into(),
                    "nova".into(),
                    "http://compute.test:8774/v2.1".into(),
                )],
            },
        )
        .await
        .unwrap();

        let bus = Bus::memory(&MemoryBroker::new());
        let shutdown = CancellationToken::new();
        let running = virga_service::start::<Identity>(config, bus.clone(), shutdown.clone())
            .await
            .unwrap();
        let mut api = Api {
            url: running.url.clone(),
            client: Client::new(),
            admin,
            admin_token: String::new(),
            bus,
            db_url,
            db,
            shutdown,
            running: Some(running),
            _dir: dir,
        };
        api.admin_token = api.token("admin", ADMIN_PASSWORD, Some("admin")).await;
        api
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.header("X-Auth-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str) -> Reply {
        self.call(Method::PUT, path, Some(token), None).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// `POST /v3/auth/tokens` with a password, the user in the default
    /// domain by name, optionally scoped to a project of the default domain.
    pub async fn login(&self, user: &str, password: &str, project: Option<&str>) -> Reply {
        let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}}});
        if let Some(p) = project {
            auth["scope"] = json!({"project": {"name": p, "domain": {"id": "default"}}});
        }
        self.call(
            Method::POST,
            "/v3/auth/tokens",
            None,
            Some(json!({ "auth": auth })),
        )
        .await
    }

    /// A token for `user`, or a panic naming the status.
    pub async fn token(&self, user: &str, password: &str, project: Option<&str>) -> String {
        let r = self.login(user, password, project).await;
        assert_eq!(r.status, 201, "login of {user}: {}", r.body);
        r.headers["x-subject-token"].to_str().unwrap().to_string()
    }

    /// Creates a user with a password in the default domain through the
    /// store (the users API has its own tests); returns its id.
    pub async fn user(&self, name: &str, password: &str) -> String {
        let hash = virga_auth::hash_password(password).unwrap();
        let new = user::NewUser {
            name: name.into(),
            domain_id: "default".into(),
            enabled: true,
            password: Some(hash),
            ..Default::default()
        };
        user::create(&self.db, new).await.unwrap().id
    }

    /// Creates a project in the default domain through the store; returns its id.
    pub async fn project(&self, name: &str) -> String {
        let new = project::NewProject {
            name: name.into(),
            domain_id: "default".into(),
            enabled: true,
            ..Default::default()
        };
        project::create(&self.db, new).await.unwrap().id
    }

    /// The id of a default role (`admin`, `member`, `reader`, `service`).
    pub async fn role_id(&self, name: &str) -> String {
        let filter = role::RoleFilter {
            name: Some(name.into()),
            domain_id: None,
        };
        role::list(&self.db, &filter, &super::all())
            .await
            .unwrap()
            .items[0]
            .id
            .clone()
    }

    /// Grants `role` to `user` on `project` through the store.
    pub async fn grant(&self, project: &str, user: &str, role: &str) {
        let grant = assignment::Model {
            actor_type: assignment::ActorType::User,
            actor_id: user.into(),
            target_type: assignment::TargetType::Project,
            target_id: project.into(),
            role_id: self.role_id(role).await,
            inherited: false,
        };
        assignment::grant(&self.db, &grant).await.unwrap();
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(r) = self.running.take() {
            r.wait().await;
        }
    }
}

/// Stamps `<name>::sqlite` and `<name>::postgres` tests for each async
/// `fn <name>(api: &Api)` listed.
#[allow(unused_macros)]
macro_rules! api_on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let api = crate::common::api::Api::sqlite().await;
                super::$name(&api).await;
                api.stop().await;
            }
            #[tokio::test]
            async fn postgres() {
                let api = crate::common::api::Api::postgres().await;
                super::$name(&api).await;
                api.stop().await;
            }
        }
    )*};
}
