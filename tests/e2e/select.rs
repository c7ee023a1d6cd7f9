//! Virga's scheduling (`/scheduler/v1/select`, `confirm`, `release`) on a
//! small edge: sites in Paris, Berlin and Tokyo with nodes of both
//! arches and a GPU. Covers the service-role rule, latency budgets,
//! traits, devices under their node, image locality, group policies,
//! health, the "no valid node" report, claims that expire unless
//! confirmed, and concurrent selects written together without
//! over-committing.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::Cloud;

use super::resource_provider::placement;

crate::on_both_backends!(with &[("VIRGA_SCHEDULER__CLAIM_TTL_SECS", "2")]; scheduling, concurrent_claims);

const P1: &str = "d1000000-0000-4000-8000-000000000001";
const P2: &str = "d1000000-0000-4000-8000-000000000002";
const B1: &str = "d2000000-0000-4000-8000-000000000001";
const T1: &str = "d3000000-0000-4000-8000-000000000001";

fn consumer(n: u32) -> String {
    format!("e0000000-0000-4000-8000-{n:012}")
}

fn node_body(site: &str, host: &str, arch: &str, vcpu: i64, devices: Value) -> Value {
    json!({"node": {"site": site, "hostname": host, "kind": "mec", "arch": arch,
        "inventories": {"VCPU": {"total": vcpu}, "MEMORY_MB": {"total": 16384}},
        "devices": devices}})
}

async fn scheduling(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let (svc, _) = super::image::with_role(cloud, &admin, "service", "service").await;
    let as_admin = |m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move {
            let (s, body, _) = placement(cloud, &admin, "1.29", m, &p, b).await;
            (s, body)
        }
    };
    let as_svc = |p: &'static str, b: Value| {
        let token = svc.token.clone();
        async move {
            let (s, body, _) = placement(cloud, &token, "1.29", Method::POST, p, Some(b)).await;
            (s, body)
        }
    };
    let mut sites = Vec::new();
    for (name, kind, region, lat, lon) in [
        ("paris", "mec", "eu", 48.8566, 2.3522),
        ("berlin", "idc", "eu", 52.52, 13.405),
        ("tokyo", "gateway", "apac", 35.6762, 139.6503),
    ] {
        let b = json!({"site": {"name": name, "kind": kind, "region": region, "location": {"latitude": lat, "longitude": lon}}});
        let (s, site) = as_admin(Method::POST, "/scheduler/v1/sites".into(), Some(b)).await;
        assert_eq!(s, 201, "{site}");
        sites.push(site["site"]["uuid"].as_str().unwrap().to_owned());
    }
    let (paris, berlin, tokyo) = (&sites[0], &sites[1], &sites[2]);
    let gpu = json!([{"name": "gpu0", "inventories": {"PGPU": {"total": 1}}}]);
    for (uuid, site, host, arch, vcpu, devices) in [
        (P1, paris, "p1", "x86_64", 8, gpu),
        (P2, paris, "p2", "x86_64", 8, json!([])),
        (B1, berlin, "b1", "x86_64", 16, json!([])),
        (T1, tokyo, "t1", "aarch64", 4, json!([])),
    ] {
        let (s, n) = as_admin(
            Method::PUT,
            format!("/scheduler/v1/nodes/{uuid}"),
            Some(node_body(site, host, arch, vcpu, devices)),
        )
        .await;
        assert_eq!(s, 200, "{n}");
    }
    let spec = |consumers: &[u32], extra: Value| {
        let mut b = json!({"consumers": consumers.iter().map(|n| consumer(*n)).collect::<Vec<_>>(),
            "project_id": "proj", "user_id": "user", "resources": {"VCPU": 2, "MEMORY_MB": 1024}});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let nodes_of = |r: &Value| -> Vec<String> {
        r["selections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["node"].as_str().unwrap().to_owned())
            .collect()
    };
    let release = |n: &[u32]| {
        as_svc(
            "/scheduler/v1/release",
            json!({"consumers": n.iter().map(|n| consumer(*n)).collect::<Vec<_>>()}),
        )
    };

    // Only the service role schedules.
    let (s, _, _) = placement(
        cloud,
        &admin,
        "1.29",
        Method::POST,
        "/scheduler/v1/select",
        Some(spec(&[1], json!({}))),
    )
    .await;
    assert_eq!(s, 403);

    // Near London within 20 ms: Paris (~5 ms) before Berlin (~14 ms); never Tokyo.
    let near = json!({"near": {"latitude": 51.5074, "longitude": -0.1278, "max_latency_ms": 20}});
    let (s, r) = as_svc("/scheduler/v1/select", spec(&[1], near.clone())).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["selections"][0]["site"], paris.as_str(), "{r}");
    let alternates: Vec<&str> = r["alternates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(alternates.contains(&B1) && !alternates.contains(&T1), "{r}");
    let chosen = r["selections"][0]["node"].as_str().unwrap().to_owned();
    let (_, u) = as_admin(
        Method::GET,
        format!("/resource_providers/{chosen}/usages"),
        None,
    )
    .await;
    assert_eq!(u["usages"]["VCPU"], 2, "claimed, not just chosen");
    release(&[1]).await;
    let (_, u) = as_admin(
        Method::GET,
        format!("/resource_providers/{chosen}/usages"),
        None,
    )
    .await;
    assert_eq!(u["usages"]["VCPU"], 0, "released");

    // Arch by trait; a GPU from the chosen node's own device.
    let (_, r) = as_svc(
        "/scheduler/v1/select",
        spec(&[2], json!({"required_traits": ["HW_ARCH_AARCH64"]})),
    )
    .await;
    assert_eq!(nodes_of(&r), [T1]);
    let (s, r) = as_svc(
        "/scheduler/v1/select",
        spec(&[3], json!({"devices": [{"resources": {"PGPU": 1}}]})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(nodes_of(&r), [P1]);
    assert_eq!(
        r["selections"][0]["allocations"].as_object().unwrap().len(),
        2,
        "node and GPU: {r}"
    );
    let (s, r) = as_svc(
        "/scheduler/v1/select",
        spec(&[4], json!({"devices": [{"resources": {"PGPU": 1}}]})),
    )
    .await;
    assert_eq!(s, 409, "the only GPU is taken: {r}");
    assert_eq!(r["errors"][0]["code"], "virga.no_valid_node");
    release(&[2, 3]).await;

    // Image locality: the node holding the image wins.
    let hb = json!({"images": ["img-x"]});
    as_admin(
        Method::POST,
        format!("/scheduler/v1/nodes/{B1}/heartbeat"),
        Some(hb),
    )
    .await;
    let (_, r) = as_svc(
        "/scheduler/v1/select",
        spec(&[5], json!({"image_id": "img-x", "regions": ["eu"]})),
    )
    .await;
    assert_eq!(nodes_of(&r), [B1], "{r}");
    release(&[5]).await;

    // Anti-affinity spreads a group; affinity keeps it on one node, also
    // across requests.
    let anti = json!({"group": {"id": "web", "policy": "anti-affinity"}, "regions": ["eu"]});
    let (_, r) = as_svc("/scheduler/v1/select", spec(&[6, 7, 8], anti.clone())).await;
    let mut used = nodes_of(&r);
    used.sort();
    let mut want = vec![P1.to_owned(), P2.to_owned(), B1.to_owned()];
    want.sort();
    assert_eq!(used, want, "{r}");
    let (s, r) = as_svc("/scheduler/v1/select", spec(&[9], anti)).await;
    assert_eq!(s, 409, "a fourth member has no node left in eu: {r}");
    assert!(
        r["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("affinity kept 0"),
        "{r}"
    );
    let aff = json!({"group": {"id": "db", "policy": "affinity"}});
    let (_, r) = as_svc("/scheduler/v1/select", spec(&[10, 11], aff.clone())).await;
    let pair = nodes_of(&r);
    assert_eq!(pair[0], pair[1], "{r}");
    let (_, r) = as_svc("/scheduler/v1/select", spec(&[12], aff)).await;
    assert_eq!(nodes_of(&r), [pair[0].clone()]);
    release(&[6, 7, 8, 10, 11, 12]).await;

    // A node out of service is not scheduled; the report says where the
    // candidates went.
    as_admin(
        Method::PUT,
        format!("/scheduler/v1/nodes/{T1}/disabled"),
        Some(json!({"disabled": true})),
    )
    .await;
    let (s, r) = as_svc(
        "/scheduler/v1/select",
        spec(&[13], json!({"required_traits": ["HW_ARCH_AARCH64"]})),
    )
    .await;
    assert_eq!(s, 409, "{r}");
    let detail = r["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("1 with room") && detail.contains("health kept 0"),
        "{detail}"
    );

    // Claims expire unless confirmed (claim_ttl_secs = 2 here).
    let (_, r) = as_svc(
        "/scheduler/v1/select",
        spec(&[14, 15], json!({"sites": [berlin]})),
    )
    .await;
    assert_eq!(nodes_of(&r), [B1, B1]);
    assert!(r["selections"][0]["expires_at"].is_string(), "{r}");
    assert_eq!(
        as_svc(
            "/scheduler/v1/confirm",
            json!({"consumers": [consumer(14)]})
        )
        .await
        .0,
        204
    );
    // One made kept at once (`confirmed`) holds too.
    let (_, r) = as_svc(
        "/scheduler/v1/select",
        spec(&[16], json!({"sites": [berlin], "confirmed": true})),
    )
    .await;
    assert_eq!(nodes_of(&r), [B1]);
    assert!(r["selections"][0]["expires_at"].is_null(), "{r}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (_, u) = as_admin(
        Method::GET,
        format!("/resource_providers/{B1}/usages"),
        None,
    )
    .await;
    assert_eq!(
        u["usages"]["VCPU"], 4,
        "the confirmed claims hold, the other expired: {u}"
    );
    let (s, _) = as_svc(
        "/scheduler/v1/confirm",
        json!({"consumers": [consumer(15)]}),
    )
    .await;
    assert_eq!(s, 404, "too late to confirm");
    release(&[14, 16]).await;
    release(&[14]).await;
    let (_, u) = as_admin(
        Method::GET,
        format!("/resource_providers/{B1}/usages"),
        None,
    )
    .await;
    assert_eq!(u["usages"]["VCPU"], 0);

    // Bad specs name the field.
    for (bad, needle) in [
        (
            json!({"project_id": "p", "user_id": "u", "resources": {"VCPU": 1}}),
            "consumers",
        ),
        (spec(&[16], json!({"resources": {}})), "resources"),
        (spec(&[16], json!({"resources": {"VCPU": 0}})), "VCPU"),
        (
            spec(&[16], json!({"resources": {"CUSTOM_NOPE": 1}})),
            "CUSTOM_NOPE",
        ),
        (
            spec(&[16], json!({"group": {"id": "g", "policy": "sometimes"}})),
            "group.policy",
        ),
        (
            spec(&[16], json!({"near": {"latitude": 100, "longitude": 0}})),
            "near.latitude",
        ),
        (
            spec(&[16], json!({"node_kinds": ["cloudlet"]})),
            "node_kinds",
        ),
        (spec(&[16], json!({"colour": "red"})), "colour"),
        (spec(&[16], json!({"confirmed": "yes"})), "confirmed"),
    ] {
        let (s, err) = as_svc("/scheduler/v1/select", bad.clone()).await;
        assert_eq!(s, 400, "{bad}: {err}");
        assert!(
            err["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{bad}: {err}"
        );
    }

    // `select` works from an in-memory view of the nodes; every change
    // made through the API shows in the very next select.
    let generation = |v: &Value| v["resource_provider_generation"].as_i64().unwrap();
    let (_, inv) = as_admin(
        Method::GET,
        format!("/resource_providers/{B1}/inventories"),
        None,
    )
    .await;
    let body = json!({"resource_provider_generation": generation(&inv),
        "inventories": {"VCPU": {"total": 2}, "MEMORY_MB": {"total": 16384}}});
    let (s, inv) = as_admin(
        Method::PUT,
        format!("/resource_providers/{B1}/inventories"),
        Some(body),
    )
    .await;
    assert_eq!(s, 200, "{inv}");
    let in_berlin = json!({"sites": [berlin]});
    // Any change to a node makes the next select read everything again
    // (here: disabling the disabled T1 once more).
    let reread = || {
        as_admin(
            Method::PUT,
            format!("/scheduler/v1/nodes/{T1}/disabled"),
            Some(json!({"disabled": true})),
        )
    };
    let (s, r) = as_svc("/scheduler/v1/select", spec(&[17], in_berlin.clone())).await;
    assert_eq!((s, nodes_of(&r)), (200, vec![B1.to_owned()]), "{r}");
    let (s, r) = as_svc("/scheduler/v1/select", spec(&[17], json!({}))).await;
    assert_eq!(s, 409, "one claim per consumer: {r}");
    assert!(
        r["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("already"),
        "{r}"
    );
    reread().await;
    let (s, r) = as_svc("/scheduler/v1/select", spec(&[18], in_berlin.clone())).await;
    assert_eq!(s, 409, "B1's 2 VCPU are taken by the claim just made: {r}");
    release(&[17]).await;
    let (s, r) = as_svc("/scheduler/v1/select", spec(&[18], in_berlin.clone())).await;
    assert_eq!(s, 200, "a release shows at once: {r}");
    release(&[18]).await;
    let taken = json!({"allocations": {B1: {"resources": {"VCPU": 2}}},
        "project_id": "proj", "user_id": "user", "consumer_generation": null});
    let (s, r) = as_admin(
        Method::PUT,
        format!("/allocations/{}", consumer(19)),
        Some(taken),
    )
    .await;
    assert_eq!(s, 204, "{r}");
    let (s, r) = as_svc("/scheduler/v1/select", spec(&[18], in_berlin.clone())).await;
    assert_eq!(
        s, 409,
        "allocations made through Placement count as well: {r}"
    );
    reread().await;
    let (s, _) = as_admin(
        Method::DELETE,
        format!("/allocations/{}", consumer(19)),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, r) = as_svc("/scheduler/v1/select", spec(&[18], in_berlin)).await;
    assert_eq!(s, 200, "and their release too: {r}");
    release(&[18]).await;
    let (s, _) = as_admin(Method::PUT, "/traits/CUSTOM_FAST_DISK".into(), None).await;
    assert_eq!(s, 201);
    let (_, t) = as_admin(
        Method::GET,
        format!("/resource_providers/{P2}/traits"),
        None,
    )
    .await;
    let mut traits = t["traits"].as_array().unwrap().clone();
    traits.push(json!("CUSTOM_FAST_DISK"));
    let body = json!({"resource_provider_generation": generation(&t), "traits": traits});
    let (s, t) = as_admin(
        Method::PUT,
        format!("/resource_providers/{P2}/traits"),
        Some(body),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let (s, r) = as_svc(
        "/scheduler/v1/select",
        spec(&[20], json!({"required_traits": ["CUSTOM_FAST_DISK"]})),
    )
    .await;
    assert_eq!((s, nodes_of(&r)), (200, vec![P2.to_owned()]), "{r}");
    release(&[20]).await;
}

/// Selects racing for the last room of one node: claims are written in
/// batches, and still exactly as many fit as there is room; a consumer
/// claims once, however many selects name it at once.
async fn concurrent_claims(cloud: &Cloud) {
    const NODE: &str = "d4000000-0000-4000-8000-000000000001";
    let admin = cloud.admin_token().await;
    let (svc, _) = super::image::with_role(cloud, &admin, "service", "service").await;
    let b = json!({"site": {"name": "lyon", "kind": "mec", "region": "eu"}});
    let (s, site, _) = placement(
        cloud,
        &admin,
        "1.29",
        Method::POST,
        "/scheduler/v1/sites",
        Some(b),
    )
    .await;
    assert_eq!(s, 201, "{site}");
    let site = site["site"]["uuid"].as_str().unwrap().to_owned();
    let path = format!("/scheduler/v1/nodes/{NODE}");
    let body = node_body(&site, "l1", "x86_64", 8, json!([]));
    let (s, n, _) = placement(cloud, &admin, "1.29", Method::PUT, &path, Some(body)).await;
    assert_eq!(s, 200, "{n}");
    let select = |consumer: String| {
        let token = svc.token.clone();
        async move {
            let b = json!({"consumers": [consumer], "project_id": "proj", "user_id": "user",
                "resources": {"VCPU": 1, "MEMORY_MB": 256}});
            let (s, body, _) = placement(
                cloud,
                &token,
                "1.29",
                Method::POST,
                "/scheduler/v1/select",
                Some(b),
            )
            .await;
            (s, body)
        }
    };
    let racing = (100..112).map(|n| select(consumer(n)));
    let answers = futures::future::join_all(racing).await;
    let won = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(won, 8, "8 VCPU, 12 selects of one: {answers:?}");
    for (s, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*s, 409, "{body}");
        assert!(body.to_string().contains("No valid node"), "{body}");
    }
    let (_, u, _) = placement(
        cloud,
        &admin,
        "1.29",
        Method::GET,
        &format!("/resource_providers/{NODE}/usages"),
        None,
    )
    .await;
    assert_eq!(u["usages"]["VCPU"], 8, "{u}");
    let winner = (100..112)
        .zip(&answers)
        .find(|(_, (s, _))| *s == 200)
        .map(|(n, _)| consumer(n))
        .unwrap();
    let (_, a, _) = placement(
        cloud,
        &admin,
        "1.38",
        Method::GET,
        &format!("/allocations/{winner}"),
        None,
    )
    .await;
    assert_eq!(a["consumer_type"], "INSTANCE", "{a}");

    // Room again, and two selects for one consumer at once: one claim.
    let release = json!({"consumers": [winner]});
    let (s, r, _) = placement(
        cloud,
        &svc.token,
        "1.29",
        Method::POST,
        "/scheduler/v1/release",
        Some(release),
    )
    .await;
    assert!(s == 200 || s == 204, "{s} {r}");
    let twice = futures::future::join_all([select(consumer(200)), select(consumer(200))]).await;
    let codes: Vec<u16> = twice.iter().map(|(s, _)| *s).collect();
    assert!(codes.contains(&200) && codes.contains(&409), "{twice:?}");
    let (s, again) = select(consumer(200)).await;
    assert_eq!(s, 409, "it holds its claim already: {again}");
}
