//! Version discovery, `/healthz`, `/metrics` and `/docs` on every service,
//! embedded and distributed.

use serde_json::Value;
use virga_tests::{Backend, Cloud};

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

async fn json(url: &str) -> (u16, Value) {
    let (status, _, body) = get(url).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}")),
    )
}

async fn check_discovery(cloud: &Cloud) {
    let id = cloud.url("identity");
    let (status, body) = json(&format!("{id}/")).await;
    assert_eq!(status, 300);
    assert_eq!(body["versions"]["values"][0]["id"], "v3.14");
    assert_eq!(
        body["versions"]["values"][0]["links"][0]["href"],
        format!("{id}/v3/")
    );
    let (status, body) = json(&format!("{id}/v3")).await;
    assert_eq!(
        (status, body["version"]["status"].as_str()),
        (200, Some("stable"))
    );

    let nova = cloud.url("compute");
    let (status, body) = json(&format!("{nova}/")).await;
    assert_eq!(status, 200);
    assert_eq!(body["versions"][0]["id"], "v2.1");
    assert_eq!(body["versions"][0]["min_version"], "2.1");
    let (status, headers, body) = get(&format!("{nova}/v2.1")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["openstack-api-version"], "compute 2.1");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["version"]["media-types"][0]["type"],
        "application/vnd.openstack.compute+json;version=2.1"
    );

    let glance = cloud.url("image");
    let (status, body) = json(&format!("{glance}/")).await;
    assert_eq!(status, 300);
    assert_eq!(
        body["versions"][0]["links"][0]["href"],
        format!("{glance}/v2/")
    );
    assert_eq!(body["versions"][0]["id"], "v2.10", "{body}");
    assert_eq!(body["versions"][0]["status"], "CURRENT");
    assert_eq!(json(&format!("{glance}/versions")).await.0, 200);

    let neutron = cloud.url("network");
    let (status, body) = json(&format!("{neutron}/")).await;
    assert_eq!(
        (status, body["versions"][0]["id"].as_str()),
        (200, Some("v2.0"))
    );
    let (status, body) = json(&format!("{neutron}/v2.0/")).await;
    assert_eq!(status, 200);
    assert!(body["resources"].is_array());

    let placement = cloud.url("scheduler");
    let (status, headers, body) = get(&format!("{placement}/")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["openstack-api-version"], "placement 1.0");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["versions"][0]["min_version"], "1.0");

    let telemetry = cloud.url("telemetry");
    let (status, body) = json(&format!("{telemetry}/")).await;
    assert_eq!(
        (status, body["versions"][0]["id"].as_str()),
        (200, Some("v1.0"))
    );
    assert_eq!(json(&format!("{telemetry}/v1")).await.0, 200);
}

async fn check_operations(cloud: &Cloud) {
    for (name, url) in &cloud.urls {
        let (status, body) = json(&format!("{url}/healthz")).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["status"], "ok");
        assert_eq!(body["service"], *name);
        assert_eq!(body["checks"]["database"], "ok");
        assert_eq!(body["checks"]["bus"], "ok");

        let (status, headers, text) = get(&format!("{url}/metrics")).await;
        assert_eq!(status, 200);
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        assert!(
            text.contains(&format!("virga_build_info{{service=\"{name}\"")),
            "{text}"
        );
        // The healthz request above was counted under its route template.
        assert!(
            text.contains(
                "virga_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
            ),
            "{text}"
        );

        let (status, doc) = json(&format!("{url}/docs/openapi.json")).await;
        assert_eq!(status, 200);
        assert!(doc["paths"]["/healthz"].is_object(), "{name}");
        let (status, _, html) = get(&format!("{url}/docs/")).await;
        assert_eq!(status, 200);
        assert!(html.contains("swagger"), "{name}");
    }
}

#[tokio::test]
async fn embedded_services_answer_discovery_and_operations() {
    let cloud = Cloud::start(Backend::Embedded).await;
    check_discovery(&cloud).await;
    check_operations(&cloud).await;
    cloud.stop().await;
}

#[tokio::test]
async fn distributed_services_answer_discovery_and_operations() {
    let cloud = Cloud::start(Backend::Distributed).await;
    check_discovery(&cloud).await;
    check_operations(&cloud).await;
    cloud.stop().await;
}
