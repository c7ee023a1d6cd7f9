//! The service runtime with a service made for the test: errors from
//! handlers, panics and framework rejections all come out in the service's
//! shape without internals; in-flight requests finish on shutdown; health
//! follows the bus.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use virga_bus::{Bus, MemoryBroker};
use virga_common::{Config, ErrorReport, RequestId};
use virga_service::{Running, Service, ServiceContext};

struct Probe;

#[derive(serde::Deserialize, utoipa::ToSchema)]
struct Thing {
    #[allow(dead_code)]
    size: u32,
}

/// Always fails with a cause that must not reach the client.
#[utoipa::path(get, path = "/internal", responses((status = 500, description = "always")))]
async fn internal() -> Result<(), virga_common::Error> {
    Err(virga_common::Error::internal(std::io::Error::other(
        "secret password in a path",
    )))
}

/// Panics.
#[utoipa::path(get, path = "/boom", responses((status = 500, description = "always")))]
async fn boom() -> &'static str {
    panic!("secret state")
}

/// Parses a JSON body.
#[utoipa::path(post, path = "/things", request_body = Thing, responses((status = 204, description = "parsed")))]
async fn things(Json(_thing): Json<Thing>) -> axum::http::StatusCode {
    axum::http::StatusCode::NO_CONTENT
}

/// Answers after a second.
#[utoipa::path(get, path = "/slow", responses((status = 200, description = "done")))]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(1)).await;
    "done"
}

impl Service for Probe {
    const NAME: &'static str = "telemetry";
    const TITLE: &'static str = "probe";
    type State = ServiceContext;
    type Migrator = NoMigrations;

    fn api() -> OpenApiRouter<ServiceContext> {
        OpenApiRouter::new()
            .routes(routes!(internal))
            .routes(routes!(boom))
            .routes(routes!(things))
            .routes(routes!(slow))
    }

    fn render_error(report: &ErrorReport, request_id: &RequestId) -> Value {
        json!({"probeError": {"status": report.status.as_u16(), "message": report.message, "rid": request_id.as_str()}})
    }

    async fn state(ctx: ServiceContext) -> Result<ServiceContext, virga_service::StartError> {
        Ok(ctx)
    }
}

struct NoMigrations;

impl virga_db::sea_orm_migration::MigratorTrait for NoMigrations {
    fn migrations() -> Vec<Box<dyn virga_db::sea_orm_migration::MigrationTrait>> {
        Vec::new()
    }
}

async fn start(bus: Bus, dir: &tempfile::TempDir) -> (Running, CancellationToken) {
    let env = vec![
        (
            "VIRGA_DATA_DIR".to_string(),
            dir.path().display().to_string(),
        ),
        (
            "VIRGA_SERVICES__TELEMETRY__LISTEN".to_string(),
            "127.0.0.1:0".to_string(),
        ),
    ];
    let config = Arc::new(Config::load(None, env).unwrap());
    let token = CancellationToken::new();
    let running = virga_service::start::<Probe>(config, bus, token.clone())
        .await
        .unwrap();
    (running, token)
}

async fn fetch(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let rid = resp.headers()["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["probeError"]["rid"], rid,
        "error body names the request id"
    );
    (status, body)
}

#[tokio::test]
async fn errors_are_rendered_in_the_service_shape_without_internals() {
    let dir = tempfile::tempdir().unwrap();
    let (running, token) = start(Bus::memory(&MemoryBroker::new()), &dir).await;
    let client = reqwest::Client::new();
    let url = running.url.clone();

    let (status, body) = fetch(client.get(format!("{url}/internal"))).await;
    assert_eq!(status, 500);
    assert_eq!(
        body["probeError"]["message"],
        virga_common::error::INTERNAL_MESSAGE
    );

    let (status, body) = fetch(client.get(format!("{url}/boom"))).await;
    assert_eq!(status, 500);
    assert!(!body.to_string().contains("secret"), "{body}");

    let (status, body) = fetch(
        client
            .post(format!("{url}/things"))
            .json(&json!({"size": "big"})),
    )
    .await;
    assert_eq!(
        status, 400,
        "a body of the wrong shape is a bad request, as in OpenStack"
    );
    assert!(
        body["probeError"]["message"]
            .as_str()
            .unwrap()
            .contains("size"),
        "{body}"
    );

    let (status, _) = fetch(client.post(format!("{url}/things")).body("{not json")).await;
    assert_eq!(status, 415, "no content type");

    let big = vec![b'x'; 2 * 1024 * 1024];
    let (status, _) = fetch(
        client
            .post(format!("{url}/things"))
            .header("content-type", "application/json")
            .body(big),
    )
    .await;
    assert_eq!(status, 413);

    let ok = client
        .post(format!("{url}/things"))
        .json(&json!({"size": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 204);

    token.cancel();
    running.wait().await;
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (running, token) = start(Bus::memory(&MemoryBroker::new()), &dir).await;
    let url = running.url.clone();
    let in_flight = tokio::spawn(async move {
        reqwest::get(format!("{url}/slow"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    token.cancel();
    running.wait().await;
    assert_eq!(in_flight.await.unwrap(), "done");
}

#[tokio::test]
async fn health_follows_the_broker() {
    let broker = virga_testkit::rabbitmq::PrivateRabbitMq::start();
    let bus = Bus::amqp(&broker.url(), Default::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (running, token) = start(bus, &dir).await;
    let health = format!("{}/healthz", running.url);

    // Only the bus check: with no identity running here, the service also
    // (rightly) reports that it has no token keys.
    let bus_check = || async {
        let body: Value = reqwest::get(&health).await.unwrap().json().await.unwrap();
        body["checks"]["bus"].as_str().unwrap().to_string()
    };
    assert_eq!(bus_check().await, "ok");

    broker.stop();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while bus_check().await != "disconnected" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never noticed the broker was gone"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    broker.restart();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while bus_check().await != "ok" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never recovered after the broker restarted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    token.cancel();
    running.wait().await;
}

#[tokio::test]
async fn health_is_degraded_until_identity_keys_arrive() {
    let broker = MemoryBroker::new();
    let dir = tempfile::tempdir().unwrap();
    let (running, token) = start(Bus::memory(&broker), &dir).await;
    let resp = reqwest::get(format!("{}/healthz", running.url))
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["checks"]["identity_keys"],
        "waiting for identity's keys"
    );
    assert_eq!(body["checks"]["database"], "ok");
    token.cancel();
    running.wait().await;
}
