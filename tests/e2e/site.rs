//! Virga's edge model on the scheduler: sites (root providers with kind,
//! region, location, network quality) and nodes registered as desired
//! state (provider under the site, inventories, traits with the arch's,
//! devices as children), heartbeats, health, disabling, deregistering.

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::Cloud;

use super::resource_provider::placement;

crate::on_both_backends!(sites_and_nodes);

pub(crate) const NODE: &str = "c1000000-0000-4000-8000-000000000001";

/// A node registration body.
pub(crate) fn node(site: &str, hostname: &str, vcpu: i64, devices: Value) -> Value {
    json!({"node": {
        "site": site, "hostname": hostname, "kind": "mec", "arch": "x86_64",
        "labels": {"rack": "r1"},
        "inventories": {"VCPU": {"total": vcpu}, "MEMORY_MB": {"total": 8192}, "DISK_GB": {"total": 100}},
        "traits": ["HW_CPU_X86_AVX2"],
        "devices": devices,
    }})
}

async fn sites_and_nodes(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let call = |m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move {
            let (s, body, _) = placement(cloud, &admin, "1.29", m, &p, b).await;
            (s, body)
        }
    };

    // Sites.
    let body = json!({"site": {"name": "paris-mec-1", "kind": "mec", "region": "eu-west",
        "location": {"latitude": 48.8566, "longitude": 2.3522}}});
    let (s, site) = call(
        Method::POST,
        "/scheduler/v1/sites".into(),
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, 201, "{site}");
    let site = site["site"].clone();
    let sid = site["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        (site["kind"].as_str(), site["region"].as_str()),
        (Some("mec"), Some("eu-west"))
    );
    assert_eq!(site["location"]["latitude"], 48.8566);
    assert_eq!(site["network_quality"], Value::Null);
    assert_eq!(
        call(Method::POST, "/scheduler/v1/sites".into(), Some(body))
            .await
            .0,
        409,
        "name taken"
    );
    let (_, rp) = call(Method::GET, format!("/resource_providers/{sid}"), None).await;
    assert_eq!(
        (rp["name"].as_str(), rp["root_provider_uuid"].as_str()),
        (Some("paris-mec-1"), Some(sid.as_str()))
    );
    for bad in [
        json!({"site": {"name": "x", "kind": "cloudlet"}}),
        json!({"site": {"name": "x", "kind": "mec", "location": {"latitude": 91, "longitude": 0}}}),
        json!({"site": {"kind": "mec"}}),
        json!({"name": "x", "kind": "mec"}),
    ] {
        let (s, err) = call(
            Method::POST,
            "/scheduler/v1/sites".into(),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(s, 400, "{bad}: {err}");
    }
    let q = json!({"latency_ms": 12.5, "bandwidth_mbps": 950, "packet_loss": 0.1});
    let (s, site) = call(
        Method::PUT,
        format!("/scheduler/v1/sites/{sid}/network_quality"),
        Some(q),
    )
    .await;
    assert_eq!(s, 200, "{site}");
    assert_eq!(site["site"]["network_quality"]["latency_ms"], 12.5);
    let bad = json!({"latency_ms": -1, "bandwidth_mbps": 950, "packet_loss": 0.1});
    assert_eq!(
        call(
            Method::PUT,
            format!("/scheduler/v1/sites/{sid}/network_quality"),
            Some(bad)
        )
        .await
        .0,
        400
    );
    let (_, list) = call(
        Method::GET,
        "/scheduler/v1/sites?region=eu-west".into(),
        None,
    )
    .await;
    assert_eq!(list["sites"].as_array().unwrap().len(), 1);
    let (_, list) = call(Method::GET, "/scheduler/v1/sites?kind=idc".into(), None).await;
    assert!(list["sites"].as_array().unwrap().is_empty());

    // A node registers (no manual provider work): its provider under the
    // site, inventories, traits with its arch's, a GPU as a child.
    let gpu = json!([{"name": "gpu0", "inventories": {"PGPU": {"total": 1}}, "traits": ["CUSTOM_NVIDIA_T4"]}]);
    let (s, err) = call(
        Method::PUT,
        format!("/scheduler/v1/nodes/{NODE}"),
        Some(node(&sid, "mec1-n1", 16, gpu.clone())),
    )
    .await;
    assert_eq!(s, 400, "CUSTOM_NVIDIA_T4 must exist first: {err}");
    assert_eq!(
        call(Method::PUT, "/traits/CUSTOM_NVIDIA_T4".into(), None)
            .await
            .0,
        201
    );
    let (s, n) = call(
        Method::PUT,
        format!("/scheduler/v1/nodes/{NODE}"),
        Some(node(&sid, "mec1-n1", 16, gpu.clone())),
    )
    .await;
    assert_eq!(s, 200, "{n}");
    assert_eq!(
        n["node"]["state"], "up",
        "registering counts as being heard"
    );
    let (_, rp) = call(Method::GET, format!("/resource_providers/{NODE}"), None).await;
    assert_eq!(rp["parent_provider_uuid"], sid.as_str());
    let (_, t) = call(
        Method::GET,
        format!("/resource_providers/{NODE}/traits"),
        None,
    )
    .await;
    assert_eq!(t["traits"], json!(["HW_ARCH_X86_64", "HW_CPU_X86_AVX2"]));
    let (_, tree) = call(
        Method::GET,
        format!("/resource_providers?in_tree={sid}"),
        None,
    )
    .await;
    let names: Vec<&str> = tree["resource_providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mec1-n1", "mec1-n1/gpu0", "paris-mec-1"]);
    let gen_before = rp["generation"].clone();

    // Registering the same again changes nothing; with more VCPU and no
    // GPU, the inventory follows and the GPU provider goes.
    call(
        Method::PUT,
        format!("/scheduler/v1/nodes/{NODE}"),
        Some(node(&sid, "mec1-n1", 16, gpu)),
    )
    .await;
    let (_, rp) = call(Method::GET, format!("/resource_providers/{NODE}"), None).await;
    assert_eq!(rp["generation"], gen_before, "idempotent");
    let (s, _) = call(
        Method::PUT,
        format!("/scheduler/v1/nodes/{NODE}"),
        Some(node(&sid, "mec1-n1", 32, json!([]))),
    )
    .await;
    assert_eq!(s, 200);
    let (_, inv) = call(
        Method::GET,
        format!("/resource_providers/{NODE}/inventories/VCPU"),
        None,
    )
    .await;
    assert_eq!(inv["total"], 32);
    let (_, tree) = call(
        Method::GET,
        format!("/resource_providers?in_tree={sid}"),
        None,
    )
    .await;
    assert_eq!(
        tree["resource_providers"].as_array().unwrap().len(),
        2,
        "the GPU is gone"
    );
    // Another node with the same host name (edge boxes often share one)
    // registers too, its provider named apart.
    let twin = "c2000000-0000-4000-8000-000000000002";
    let (s, n) = call(
        Method::PUT,
        format!("/scheduler/v1/nodes/{twin}"),
        Some(node(&sid, "mec1-n1", 4, json!([]))),
    )
    .await;
    assert_eq!(s, 200, "{n}");
    let (_, rp) = call(Method::GET, format!("/resource_providers/{twin}"), None).await;
    assert_eq!(rp["name"], "mec1-n1-c2000000", "{rp}");
    let (_, rp) = call(Method::GET, format!("/resource_providers/{NODE}"), None).await;
    assert_eq!(rp["name"], "mec1-n1", "the first keeps its name");
    let (s, _) = call(Method::DELETE, format!("/scheduler/v1/nodes/{twin}"), None).await;
    assert_eq!(s, 204);
    for (bad, why) in [
        (
            node("c9000000-0000-4000-8000-000000000000", "x", 1, json!([])),
            "no such site",
        ),
        (
            json!({"node": {"site": sid, "hostname": "x", "kind": "mec", "arch": "sparc", "inventories": {}}}),
            "arch",
        ),
        (
            json!({"node": {"site": sid, "hostname": "x", "kind": "mec", "arch": "x86_64", "inventories": {"VCPU": {"total": 0}}}}),
            "total",
        ),
    ] {
        let (s, err) = call(
            Method::PUT,
            "/scheduler/v1/nodes/c1000000-0000-4000-8000-000000000009".into(),
            Some(bad),
        )
        .await;
        assert_eq!(s, 400, "{why}: {err}");
    }

    // Heartbeats carry load and cache contents; disabling takes it out.
    let hb = json!({"load": {"cpu": 0.25}, "images": ["img-1"], "layers": ["sha256:aa"]});
    let (s, n) = call(
        Method::POST,
        format!("/scheduler/v1/nodes/{NODE}/heartbeat"),
        Some(hb),
    )
    .await;
    assert_eq!(s, 200, "{n}");
    assert_eq!(n["node"]["images"], json!(["img-1"]));
    assert_eq!(n["node"]["load"]["cpu"], 0.25);
    let (s, _) = call(
        Method::POST,
        "/scheduler/v1/nodes/c1000000-0000-4000-8000-000000000009/heartbeat".into(),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 404);
    let (_, n) = call(
        Method::PUT,
        format!("/scheduler/v1/nodes/{NODE}/disabled"),
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(n["node"]["state"], "disabled");
    let (_, list) = call(Method::GET, format!("/scheduler/v1/nodes?site={sid}"), None).await;
    assert_eq!(list["nodes"][0]["state"], "disabled");

    // A site with nodes stays; deregistering the node lets it go.
    assert_eq!(
        call(Method::DELETE, format!("/scheduler/v1/sites/{sid}"), None)
            .await
            .0,
        409
    );
    assert_eq!(
        call(Method::DELETE, format!("/scheduler/v1/nodes/{NODE}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        call(Method::GET, format!("/scheduler/v1/nodes/{NODE}"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(Method::DELETE, format!("/scheduler/v1/sites/{sid}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        call(Method::GET, format!("/scheduler/v1/sites/{sid}"), None)
            .await
            .0,
        404
    );
}
