//! The edge nodes as Nova shows them, on both backends: hypervisors with
//! their capacity and use, compute services (disabling one takes its node
//! out of scheduling) and availability zones (sites with nodes); admins
//! only, but for the zones' list.

use serde_json::json;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_tests::Cloud;

use super::agent::registered;
use super::nova::{callers, message};
use super::server::{flavor, image, server, start_agent, status, until};

crate::on_both_backends!(hypervisors);

async fn hypervisors(cloud: &Cloud) {
    let (admin, alpha, _, _) = callers(cloud).await;
    flavor(&admin, "1", 256).await;
    let img = image(cloud, &alpha.token, "private").await;
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulated::new(SimConfig::default());
    let agent = start_agent(cloud, dir.path(), &sim).await;
    let node = agent.running.node.clone();
    registered(cloud, &node).await;

    // Hypervisors: the node, up and enabled; its use follows its servers.
    let (s, b) = admin.get("/v2.1/os-hypervisors").await;
    assert_eq!(s, 200, "{b}");
    let h = &b["hypervisors"][0];
    assert_eq!(
        (&h["id"], &h["state"], &h["status"]),
        (&json!(node), &json!("up"), &json!("enabled")),
        "{b}"
    );
    let host = h["hypervisor_hostname"].as_str().unwrap().to_owned();
    assert_eq!(alpha.get("/v2.1/os-hypervisors").await.0, 403);
    // In the zone of the node's site; a zone no site has is refused.
    let mut asked = server("vm", &img, "1");
    asked["server"]["availability_zone"] = json!("nowhere");
    let (s, e) = alpha.post("/v2.1/servers", asked.clone()).await;
    assert_eq!(
        (s, message(&e).as_str()),
        (400, "The requested availability zone is not available")
    );
    asked["server"]["availability_zone"] = json!("edge1");
    let (s, b) = alpha.post("/v2.1/servers", asked).await;
    assert_eq!(s, 202, "{b}");
    let id = b["server"]["id"].as_str().unwrap().to_owned();
    let (_, b) = until(&alpha, &id, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&b), "ACTIVE", "{b}");
    assert_eq!(b["server"]["OS-EXT-AZ:availability_zone"], "edge1", "{b}");
    let (s, b) = admin.get("/v2.1/os-hypervisors/detail").await;
    assert_eq!(s, 200, "{b}");
    let d = &b["hypervisors"][0];
    assert_eq!(
        (
            &d["vcpus_used"],
            &d["memory_mb_used"],
            &d["running_vms"],
            &d["service"]["host"]
        ),
        (&json!(1), &json!(256), &json!(1), &json!(host)),
        "{d}"
    );
    assert!(
        d["vcpus"].as_i64().unwrap() >= 1 && d["memory_mb"].as_i64().unwrap() >= 256,
        "{d}"
    );
    let (s, one) = admin.get(&format!("/v2.1/os-hypervisors/{node}")).await;
    assert_eq!(
        (s, &one["hypervisor"]["running_vms"]),
        (200, &json!(1)),
        "{one}"
    );
    let missing = uuid::Uuid::new_v4();
    let (s, e) = admin.get(&format!("/v2.1/os-hypervisors/{missing}")).await;
    assert_eq!(
        (s, message(&e)),
        (
            404,
            format!("Hypervisor with ID {missing} could not be found.")
        )
    );

    // Services: the node's nova-compute in its site's zone.
    let (s, b) = admin.get("/v2.1/os-services").await;
    assert_eq!(s, 200, "{b}");
    let svc = &b["services"][0];
    assert_eq!(
        (
            &svc["binary"],
            &svc["host"],
            &svc["zone"],
            &svc["state"],
            &svc["status"]
        ),
        (
            &json!("nova-compute"),
            &json!(host),
            &json!("edge1"),
            &json!("up"),
            &json!("enabled")
        ),
        "{b}"
    );
    let (_, b) = admin.get("/v2.1/os-services?binary=nova-scheduler").await;
    assert_eq!(b["services"], json!([]));
    assert_eq!(alpha.get("/v2.1/os-services").await.0, 403);

    // Zones: anyone lists them; the hosts are for admins.
    let (s, b) = alpha.get("/v2.1/os-availability-zone").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["availabilityZoneInfo"],
        json!([{"zoneName": "edge1", "zoneState": {"available": true}, "hosts": null}])
    );
    assert_eq!(alpha.get("/v2.1/os-availability-zone/detail").await.0, 403);
    let (_, b) = admin.get("/v2.1/os-availability-zone/detail").await;
    assert_eq!(
        b["availabilityZoneInfo"][0]["hosts"][&host]["nova-compute"]["available"], true,
        "{b}"
    );

    // Disabled: no new server lands there, and the zone is unavailable.
    let body = json!({"host": host, "binary": "nova-compute"});
    let (s, b) = admin.put("/v2.1/os-services/disable", body.clone()).await;
    assert_eq!(
        (s, &b["service"]["status"]),
        (200, &json!("disabled")),
        "{b}"
    );
    let (_, b) = alpha.get("/v2.1/os-availability-zone").await;
    assert_eq!(
        b["availabilityZoneInfo"][0]["zoneState"]["available"], false,
        "{b}"
    );
    let (_, b) = admin.get("/v2.1/os-hypervisors").await;
    assert_eq!(b["hypervisors"][0]["status"], "disabled", "{b}");
    let (s, b) = alpha.post("/v2.1/servers", server("vm2", &img, "1")).await;
    assert_eq!(s, 202, "{b}");
    let id2 = b["server"]["id"].as_str().unwrap().to_owned();
    let (_, b) = until(&alpha, &id2, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&b), "ERROR", "{b}");
    let (s, b) = admin.put("/v2.1/os-services/enable", body).await;
    assert_eq!(
        (s, &b["service"]["status"]),
        (200, &json!("enabled")),
        "{b}"
    );
    let (_, b) = alpha.get("/v2.1/os-availability-zone").await;
    assert_eq!(
        b["availabilityZoneInfo"][0]["zoneState"]["available"], true,
        "{b}"
    );
    // Bad requests.
    let (s, e) = admin
        .put(
            "/v2.1/os-services/disable",
            json!({"host": "nowhere", "binary": "nova-compute"}),
        )
        .await;
    assert_eq!(
        (s, message(&e).as_str()),
        (404, "Could not find binary nova-compute on host nowhere.")
    );
    assert_eq!(
        admin
            .put("/v2.1/os-services/disable", json!({"host": host}))
            .await
            .0,
        400
    );
    assert_eq!(
        alpha
            .put(
                "/v2.1/os-services/enable",
                json!({"host": host, "binary": "nova-compute"})
            )
            .await
            .0,
        403
    );

    for s in [&id, &id2] {
        assert_eq!(alpha.delete(&format!("/v2.1/servers/{s}")).await.0, 204);
        until(&alpha, s, |st, _| st == 404).await;
    }
    agent.stop().await;
}
