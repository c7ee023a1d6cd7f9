//! Agents' reports over the bus (`virga_protocol::scheduler`), on the
//! in-process bus and on RabbitMQ: a registration creates the site on
//! first sight and the node's provider tree with no manual step, is
//! idempotent, refuses what it cannot take; heartbeats refresh the node;
//! a silent node is announced down once and up when heard again.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use virga_bus::{Context, Incoming, handler_fn};
use virga_protocol::scheduler::{NodeCall, Registered, TOPIC};
use virga_protocol::to_parts;
use virga_tests::Cloud;

use super::resource_provider::placement;

crate::on_both_backends!(with &[("VIRGA_SCHEDULER__NODE_STALE_SECS", "2")]; reports);

const N1: &str = "f1000000-0000-4000-8000-000000000001";
const N2: &str = "f1000000-0000-4000-8000-000000000002";

fn register(node: &str, hostname: &str, vcpu: i64) -> NodeCall {
    serde_json::from_value(json!({"method": "register", "args": {
        "node": node,
        "site": {"name": "lyon-mec", "kind": "mec", "region": "eu-west"},
        "hostname": hostname, "kind": "mec", "arch": "aarch64",
        "labels": {"rack": "r2"},
        "inventories": {"VCPU": {"total": vcpu}, "MEMORY_MB": {"total": 4096}},
        "devices": [{"name": "0000:01:00.0", "inventories": {"FPGA": {"total": 1}}}],
    }}))
    .unwrap()
}

async fn reports(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let get = |p: String| {
        let admin = admin.clone();
        async move {
            placement(cloud, &admin, "1.29", Method::GET, &p, None)
                .await
                .1
        }
    };
    let (events_tx, mut events) = mpsc::unbounded_channel::<(String, Value)>();
    let _sub = cloud
        .bus
        .subscribe(
            "scheduler.#",
            None,
            handler_fn(move |m: Incoming| {
                let tx = events_tx.clone();
                async move {
                    let _ = tx.send((m.envelope.method, m.envelope.args));
                    Ok(Value::Null)
                }
            }),
        )
        .await
        .unwrap();
    let call = |msg: NodeCall| async move {
        let (method, args) = to_parts(&msg);
        cloud
            .bus
            .call(
                TOPIC,
                &method,
                args,
                &Context::default(),
                Duration::from_secs(10),
            )
            .await
    };

    // The first node of a site creates it; the second joins it.
    let r: Registered =
        serde_json::from_value(call(register(N1, "lyon-1", 4)).await.unwrap()).unwrap();
    assert_eq!(r.node, N1);
    let r2: Registered =
        serde_json::from_value(call(register(N2, "lyon-2", 8)).await.unwrap()).unwrap();
    assert_eq!(r2.site, r.site, "one site");
    let site = get(format!("/scheduler/v1/sites/{}", r.site)).await;
    assert_eq!(
        (site["site"]["name"].as_str(), site["site"]["kind"].as_str()),
        (Some("lyon-mec"), Some("mec"))
    );
    let t = get(format!("/resource_providers/{N1}/traits")).await;
    assert_eq!(t["traits"], json!(["HW_ARCH_AARCH64"]));
    let tree = get(format!("/resource_providers?in_tree={}", r.site)).await;
    assert_eq!(
        tree["resource_providers"].as_array().unwrap().len(),
        5,
        "site, 2 nodes, 2 FPGAs: {tree}"
    );
    let before = get(format!("/resource_providers/{N1}")).await["generation"].clone();
    call(register(N1, "lyon-1", 4)).await.unwrap();
    assert_eq!(
        get(format!("/resource_providers/{N1}")).await["generation"],
        before,
        "idempotent"
    );

    // Refusals come back as the call's error.
    let mut bad = register("f1000000-0000-4000-8000-000000000009", "x", 4);
    if let NodeCall::Register { inventories, .. } = &mut bad {
        inventories.insert(
            "CUSTOM_NOPE".into(),
            serde_json::from_value(json!({"total": 1})).unwrap(),
        );
    }
    let err = call(bad).await.unwrap_err();
    assert!(err.to_string().contains("CUSTOM_NOPE"), "{err}");
    let mut bad = register("not-a-uuid", "x", 4);
    if let NodeCall::Register { kind, .. } = &mut bad {
        *kind = "cloudlet".into();
    }
    assert!(call(bad).await.is_err());

    // A heartbeat (a cast) refreshes load and cache contents.
    let hb: NodeCall = serde_json::from_value(json!({"method": "heartbeat", "args": {
        "node": N1, "load": {"cpu": 0.5}, "images": ["img-7"], "layers": ["sha256:bb"]}}))
    .unwrap();
    let (m, a) = to_parts(&hb);
    cloud
        .bus
        .cast(TOPIC, &m, a, &Context::default())
        .await
        .unwrap();
    let mut seen = Value::Null;
    for _ in 0..50 {
        seen = get(format!("/scheduler/v1/nodes/{N1}")).await;
        if seen["node"]["images"] == json!(["img-7"]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["node"]["load"]["cpu"], 0.5, "{seen}");

    // Silent nodes are announced down once (stale after 2 s here), and a
    // node heard again is announced up.
    let mut down = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while down.len() < 2 {
        let (ev, args) = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("down events")
            .unwrap();
        if ev == "scheduler.node.down" {
            down.push(args["node"].as_str().unwrap().to_owned());
        }
    }
    down.sort();
    assert_eq!(down, [N1, N2]);
    let n = get(format!("/scheduler/v1/nodes/{N2}")).await;
    assert_eq!(n["node"]["state"], "down");
    let (m, a) = to_parts(&hb);
    cloud
        .bus
        .cast(TOPIC, &m, a, &Context::default())
        .await
        .unwrap();
    loop {
        let (ev, args) = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("an up event")
            .unwrap();
        assert_ne!(ev, "scheduler.node.down", "announced once: {args}");
        if ev == "scheduler.node.up" {
            assert_eq!(args["node"], N1);
            break;
        }
    }
}
