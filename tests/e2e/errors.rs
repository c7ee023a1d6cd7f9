//! Error bodies in each service's OpenStack shape, and request ids on every
//! response, error or not.

use serde_json::{Value, json};
use virga_tests::{Backend, Cloud};

async fn request(method: reqwest::Method, url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = reqwest::Client::new()
        .request(method, url)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}")),
    )
}

/// The expected body of a 404 for an unknown path, by service.
fn not_found(service: &str, request_id: &str) -> Value {
    let message = "The resource could not be found.";
    match service {
        "identity" => json!({"error": {"code": 404, "message": message, "title": "Not Found"}}),
        "compute" => json!({"itemNotFound": {"code": 404, "message": message}}),
        "image" => json!({"message": message, "code": "404 Not Found", "title": "Not Found"}),
        "network" => {
            json!({"NeutronError": {"type": "HTTPNotFound", "message": message, "detail": ""}})
        }
        "scheduler" => json!({"errors": [{
            "status": 404, "title": "Not Found", "detail": message,
            "request_id": request_id, "code": "placement.undefined_code"
        }]}),
        "telemetry" => json!({"code": 404, "title": "Not Found", "description": message}),
        other => panic!("unknown service {other}"),
    }
}

#[tokio::test]
async fn unknown_paths_get_each_services_not_found_shape() {
    let cloud = Cloud::start(Backend::Embedded).await;
    for (name, url) in &cloud.urls {
        let (status, headers, body) =
            request(reqwest::Method::GET, &format!("{url}/no/such/thing")).await;
        assert_eq!(status, 404, "{name}");
        let rid = headers["x-openstack-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(rid.starts_with("req-") && rid.len() == 40, "{name}: {rid}");
        assert_eq!(body, not_found(name, &rid), "{name}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
    cloud.stop().await;
}

#[tokio::test]
async fn wrong_method_is_rendered_in_shape() {
    let cloud = Cloud::start(Backend::Embedded).await;
    let (status, _, body) = request(
        reqwest::Method::DELETE,
        &format!("{}/healthz", cloud.url("compute")),
    )
    .await;
    assert_eq!(status, 405);
    assert_eq!(body["badMethod"]["code"], 405);
    let (status, _, body) = request(
        reqwest::Method::POST,
        &format!("{}/v3", cloud.url("identity")),
    )
    .await;
    assert_eq!(status, 405);
    assert_eq!(body["error"]["title"], "Method Not Allowed");
    cloud.stop().await;
}

#[tokio::test]
async fn request_ids_are_kept_when_well_formed_and_compute_repeats_them() {
    let cloud = Cloud::start(Backend::Embedded).await;
    let client = reqwest::Client::new();
    let mine = "req-0f0e0d0c-0b0a-4908-8706-050403020100";
    let resp = client
        .get(format!("{}/v2.1", cloud.url("compute")))
        .header("x-openstack-request-id", mine)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-openstack-request-id"], mine);
    assert_eq!(resp.headers()["x-compute-request-id"], mine);

    let resp = client
        .get(format!("{}/healthz", cloud.url("image")))
        .header("x-openstack-request-id", "req-<script>")
        .send()
        .await
        .unwrap();
    let rid = resp.headers()["x-openstack-request-id"].to_str().unwrap();
    assert_ne!(rid, "req-<script>");
    assert!(rid.starts_with("req-"));
    cloud.stop().await;
}
