//! Virga's edge extensions to compute, on both backends: a server placed
//! by latency to its clients (`near` and `max_latency_ms` scheduler
//! hints: the nearest site, none beyond the budget), and the servers of
//! one site (`/compute/v1/sites/{site}/servers`).

use reqwest::Method;
use serde_json::{Value, json};
use virga_agent::BusSource;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_tests::Cloud;

use super::agent::{TestAgent, agent_config, registered};
use super::nova::{Nova, callers, message};
use super::resource_provider::placement;
use super::server::{flavor, image, status, until};

crate::on_both_backends!(site_servers);

fn near(name: &str, image: &str, hints: Value) -> Value {
    json!({"server": {"name": name, "imageRef": image, "flavorRef": "1"}, "os:scheduler_hints": hints})
}

async fn built(alpha: &Nova<'_>, body: Value) -> (String, Value) {
    let (s, b) = alpha.post("/v2.1/servers", body).await;
    assert_eq!(s, 202, "{b}");
    let id = b["server"]["id"].as_str().unwrap().to_owned();
    let (_, b) = until(alpha, &id, |_, b| status(b) != "BUILD").await;
    (id, b)
}

async fn site_servers(cloud: &Cloud) {
    let (admin, alpha, _, beta) = callers(cloud).await;
    flavor(&admin, "1", 256).await;
    let img = image(cloud, &alpha.token, "private").await;
    let mut agents = Vec::new();
    let mut nodes = Vec::new();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for (dir, site) in dirs.iter().zip(["paris", "london"]) {
        let agent = TestAgent::start(
            BusSource::Ready(cloud.bus.clone()),
            dir.path(),
            Simulated::new(SimConfig::default()),
            agent_config(site),
        )
        .await;
        registered(cloud, &agent.running.node).await;
        nodes.push(agent.running.node.clone());
        agents.push(agent);
    }
    // Where the sites are.
    let (_, sites, _) = placement(
        cloud,
        &admin.token,
        "1.0",
        Method::GET,
        "/scheduler/v1/sites",
        None,
    )
    .await;
    let uuid_of = |name: &str| {
        sites["sites"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (name, lat, lon) in [("paris", 48.86, 2.35), ("london", 51.51, -0.13)] {
        let body = json!({"site": {"name": name, "kind": "mec", "location": {"latitude": lat, "longitude": lon}}});
        let path = format!("/scheduler/v1/sites/{}", uuid_of(name));
        let (s, b, _) = placement(cloud, &admin.token, "1.0", Method::PUT, &path, Some(body)).await;
        assert_eq!(s, 200, "{b}");
    }

    // The nearest site wins; a budget keeps to the sites within it (from
    // Strasbourg: Paris about 6 ms, London about 10: London's node, which
    // holds the image by then, would otherwise weigh as much as Paris's
    // nearness); one beyond every budget is no valid host.
    let (in_london, b) = built(&alpha, near("l", &img, json!({"near": "51.45,-0.97"}))).await;
    assert_eq!(status(&b), "ACTIVE", "{b}");
    let (in_paris, b) = built(
        &alpha,
        near(
            "p",
            &img,
            json!({"near": {"latitude": 48.58, "longitude": 7.75}, "max_latency_ms": "8"}),
        ),
    )
    .await;
    assert_eq!(status(&b), "ACTIVE", "{b}");
    for (id, node) in [(&in_london, &nodes[1]), (&in_paris, &nodes[0])] {
        let (_, v) = admin.get(&format!("/v2.1/servers/{id}")).await;
        assert_eq!(v["server"]["OS-EXT-SRV-ATTR:host"], node.as_str(), "{v}");
    }
    let (far, b) = built(
        &alpha,
        near(
            "t",
            &img,
            json!({"near": "35.68,139.69", "max_latency_ms": 20}),
        ),
    )
    .await;
    assert_eq!(status(&b), "ERROR", "{b}");
    for (hints, want) in [
        (
            json!({"near": "north"}),
            "Invalid input for field/attribute near",
        ),
        (json!({"near": "91,0"}), "out of range"),
        (
            json!({"max_latency_ms": 5}),
            "The hint max_latency_ms needs the hint near.",
        ),
        (
            json!({"near": "1,2", "max_latency_ms": "soon"}),
            "max_latency_ms",
        ),
    ] {
        let (s, e) = alpha
            .post("/v2.1/servers", near("x", &img, hints.clone()))
            .await;
        assert_eq!(s, 400, "{hints}: {e}");
        assert!(message(&e).contains(want), "{hints}: {e}");
    }

    // A site's servers, by its name or uuid; another project sees none.
    let names = |b: &Value| -> Vec<String> {
        b["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (s, b) = alpha.get("/compute/v1/sites/london/servers").await;
    assert_eq!((s, names(&b)), (200, vec!["l".to_owned()]), "{b}");
    assert_eq!(b["servers"][0]["status"], "ACTIVE", "{b}");
    let (_, b) = alpha
        .get(&format!("/compute/v1/sites/{}/servers", uuid_of("paris")))
        .await;
    assert_eq!(names(&b), ["p"]);
    let (_, b) = beta.get("/compute/v1/sites/london/servers").await;
    assert_eq!(b["servers"], json!([]));
    let (_, b) = admin
        .get("/compute/v1/sites/london/servers?all_tenants=1")
        .await;
    assert_eq!(names(&b), ["l"]);
    let (s, e) = alpha.get("/compute/v1/sites/atlantis/servers").await;
    assert_eq!(
        (s, message(&e).as_str()),
        (404, "Site atlantis could not be found.")
    );

    for id in [&in_london, &in_paris, &far] {
        assert_eq!(alpha.delete(&format!("/v2.1/servers/{id}")).await.0, 204);
        until(&alpha, id, |s, _| s == 404).await;
    }
    for a in agents {
        a.stop().await;
    }
}
