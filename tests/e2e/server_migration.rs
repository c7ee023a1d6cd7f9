//! Moving servers between nodes end to end on the simulated hypervisor,
//! on both backends, two nodes: a resize confirmed (the disk travels to
//! the target through the image service, the claim follows the server, the
//! source's guest goes), a migration to a named node reverted (the server
//! back where it was, the target's guest and claim gone), a stopped server
//! moved stopped; a move whose disk export fails and one no node can take
//! are undone; a server deleted while waiting for a confirm leaves nothing
//! on either node. A server whose node is down is evacuated: rebuilt from
//! its image on the other node, and the old node, back, destroys its
//! guest. Bad input and wrong states are refused as Nova does. A compute
//! service stopped in the middle of a move, a confirm or a revert resumes
//! it when restarted.

use std::time::Duration;

use serde_json::{Value, json};
use virga_agent::driver::simulated::{Op, SimConfig, Simulated};
use virga_agent::driver::{Driver, GuestState};
use virga_tests::Cloud;

use super::agent::{TestAgent, agent_config, registered};
use super::nova::{Nova, callers, message};
use super::server::{allocations, flavor, image, server, status, until};
use super::server_action::{act, guest_becomes, settled};

crate::on_both_backends!(moves);
crate::on_both_backends!(with &[("VIRGA_SCHEDULER__NODE_STALE_SECS", "2")]; evacuation);

mod restarts {
    use virga_tests::{Backend, Cloud};

    #[tokio::test]
    async fn embedded() {
        let mut cloud = Cloud::start(Backend::Embedded).await;
        super::restarts(&mut cloud).await;
        cloud.stop().await;
    }

    #[tokio::test]
    async fn distributed() {
        let mut cloud = Cloud::start(Backend::Distributed).await;
        super::restarts(&mut cloud).await;
        cloud.stop().await;
    }
}

/// The memory the server's claim holds on each node.
async fn held(cloud: &Cloud, admin: &str, consumer: &str) -> Vec<(String, i64)> {
    let a = allocations(cloud, admin, consumer).await;
    let mut out: Vec<(String, i64)> = a
        .as_object()
        .into_iter()
        .flatten()
        .map(|(p, r)| (p.clone(), r["resources"]["MEMORY_MB"].as_i64().unwrap_or(0)))
        .collect();
    out.sort();
    out
}

/// The last action's name and its first event's result and traceback.
async fn last_action(admin: &Nova<'_>, id: &str) -> (String, String, String) {
    let (_, b) = admin
        .get(&format!("/v2.1/servers/{id}/os-instance-actions"))
        .await;
    let a = &b["instanceActions"][0];
    let rid = a["request_id"].as_str().unwrap();
    let path = format!("/v2.1/servers/{id}/os-instance-actions/{rid}");
    let (_, b) = admin.get(&path).await;
    let ev = &b["instanceAction"]["events"][0];
    (
        a["action"].as_str().unwrap().to_owned(),
        ev["result"].as_str().unwrap_or_default().to_owned(),
        ev["traceback"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn moves(cloud: &Cloud) {
    let (admin_token, alpha_token) = {
        let (admin, alpha, _, _) = callers(cloud).await;
        flavor(&admin, "1", 256).await;
        flavor(&admin, "2", 512).await;
        flavor(&admin, "9", 1 << 30).await;
        (admin.token, alpha.token)
    };
    let img = image(cloud, &alpha_token, "private").await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (s1, s2) = (
        Simulated::new(SimConfig::default()),
        Simulated::new(SimConfig::default()),
    );
    let bus = || virga_agent::BusSource::Ready(cloud.bus.clone());
    let named = |h: &str| {
        let mut c = agent_config("edge1");
        c.hostname = Some(h.into());
        c
    };
    let a1 = TestAgent::start(bus(), d1.path(), s1.clone(), named("edge1-a")).await;
    let a2 = TestAgent::start(bus(), d2.path(), s2.clone(), named("edge1-b")).await;
    let (n1, n2) = (a1.running.node.clone(), a2.running.node.clone());
    registered(cloud, &n1).await;
    registered(cloud, &n2).await;
    let admin = Nova {
        cloud,
        token: admin_token.clone(),
    };
    let alpha = Nova {
        cloud,
        token: alpha_token.clone(),
    };
    // Which simulated node is which.
    let sim = |node: &str| if node == n1 { &s1 } else { &s2 };
    let other = |node: &str| if node == n1 { n2.clone() } else { n1.clone() };
    let node_of = |b: &Value| {
        let h = &b["server"]["OS-EXT-SRV-ATTR:hypervisor_hostname"];
        h.as_str().unwrap_or_default().to_owned()
    };

    let (s, b) = alpha.post("/v2.1/servers", server("vm", &img, "1")).await;
    assert_eq!(s, 202, "{b}");
    let id = b["server"]["id"].as_str().unwrap().to_owned();
    let (_, b) = until(&alpha, &id, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&b), "ACTIVE", "{b}");
    let (_, b) = admin.get(&format!("/v2.1/servers/{id}")).await;
    let src = node_of(&b);
    assert!(src == n1 || src == n2, "{b}");
    let dst = other(&src);

    // Bad input and the wrong state.
    let (s, b) = act(&alpha, &id, json!({"resize": {"flavorRef": "1"}})).await;
    assert_eq!(
        (s, message(&b).as_str()),
        (400, "When resizing, instances must change flavor!")
    );
    let (s, b) = act(&alpha, &id, json!({"resize": {"flavorRef": "nope"}})).await;
    assert_eq!(
        (s, message(&b).as_str()),
        (400, "Unable to locate requested flavor.")
    );
    assert_eq!(act(&alpha, &id, json!({"resize": {}})).await.0, 400);
    let (s, b) = act(&alpha, &id, json!({"confirmResize": null})).await;
    assert_eq!(
        (s, message(&b)),
        (
            409,
            format!("Cannot 'confirmResize' instance {id} while it is in vm_state active")
        )
    );
    assert_eq!(act(&alpha, &id, json!({"migrate": null})).await.0, 403);
    let (s, b) = act(&admin, &id, json!({"migrate": {"host": "nope"}})).await;
    assert_eq!(
        (s, message(&b).as_str()),
        (400, "Compute host nope could not be found.")
    );
    let (s, b) = act(&admin, &id, json!({"migrate": {"host": src}})).await;
    assert_eq!(
        (s, message(&b).as_str()),
        (400, "The target host can't be the same one.")
    );

    // A resize: the disk travels, the server waits for a confirm on the
    // target, the source keeps its stopped guest and its claim.
    let (s, b) = act(&alpha, &id, json!({"resize": {"flavorRef": "2"}})).await;
    assert_eq!(s, 202, "{b}");
    let b = settled(&admin, &id).await;
    let last = last_action(&admin, &id).await;
    assert_eq!(status(&b), "VERIFY_RESIZE", "{b} {last:?}");
    assert_eq!(node_of(&b), dst);
    assert_eq!(b["server"]["flavor"]["id"], "2", "{b}");
    guest_becomes(sim(&dst), &id, Some(GuestState::Running)).await;
    guest_becomes(sim(&src), &id, Some(GuestState::Stopped)).await;
    let disk = sim(&dst).image_of(&id).unwrap();
    let text = std::fs::read_to_string(&disk.path).unwrap();
    assert!(text.contains(&format!("instance {id}")), "{text}");
    assert_eq!(held(cloud, &admin_token, &id).await, [(src.clone(), 256)]);
    let (s, b) = act(&alpha, &id, json!({"os-stop": null})).await;
    assert_eq!(s, 409, "{b}");

    // Confirmed: the source's guest goes, the claim is the target's.
    let (s, b) = act(&alpha, &id, json!({"confirmResize": null})).await;
    assert_eq!(s, 204, "{b}");
    let b = settled(&alpha, &id).await;
    assert_eq!(status(&b), "ACTIVE", "{b}");
    guest_becomes(sim(&src), &id, None).await;
    assert_eq!(held(cloud, &admin_token, &id).await, [(dst.clone(), 512)]);
    let (name, result, _) = last_action(&admin, &id).await;
    assert_eq!(
        (name.as_str(), result.as_str()),
        ("confirmResize", "Success")
    );

    // Migrated (by an operator, to the node named) and reverted: back
    // where it was, as it was.
    let (here, there) = (dst.clone(), src.clone());
    let (s, b) = act(&admin, &id, json!({"migrate": {"host": there}})).await;
    assert_eq!(s, 202, "{b}");
    let b = settled(&admin, &id).await;
    assert_eq!((status(&b), node_of(&b)), ("VERIFY_RESIZE", there.clone()));
    guest_becomes(sim(&there), &id, Some(GuestState::Running)).await;
    let (s, b) = act(&alpha, &id, json!({"revertResize": null})).await;
    assert_eq!(s, 202, "{b}");
    let b = settled(&admin, &id).await;
    assert_eq!((status(&b), node_of(&b)), ("ACTIVE", here.clone()), "{b}");
    guest_becomes(sim(&here), &id, Some(GuestState::Running)).await;
    guest_becomes(sim(&there), &id, None).await;
    assert_eq!(held(cloud, &admin_token, &id).await, [(here.clone(), 512)]);
    let usage = super::resource_provider::placement(
        cloud,
        &admin_token,
        "1.28",
        reqwest::Method::GET,
        &format!("/resource_providers/{there}/usages"),
        None,
    )
    .await
    .1;
    assert_eq!(usage["usages"]["MEMORY_MB"], 0, "{usage}");

    // A stopped server moves stopped.
    assert_eq!(act(&alpha, &id, json!({"os-stop": null})).await.0, 202);
    assert_eq!(status(&settled(&alpha, &id).await), "SHUTOFF");
    assert_eq!(act(&admin, &id, json!({"migrate": null})).await.0, 202);
    let b = settled(&admin, &id).await;
    assert_eq!((status(&b), node_of(&b)), ("VERIFY_RESIZE", there.clone()));
    assert_eq!(b["server"]["OS-EXT-STS:power_state"], 4, "{b}");
    guest_becomes(sim(&there), &id, Some(GuestState::Stopped)).await;
    assert_eq!(
        act(&alpha, &id, json!({"confirmResize": null})).await.0,
        204
    );
    assert_eq!(status(&settled(&alpha, &id).await), "SHUTOFF");
    // ... and is reverted stopped (its guest already as asked: a full
    // report says so).
    assert_eq!(act(&admin, &id, json!({"migrate": null})).await.0, 202);
    assert_eq!(status(&settled(&admin, &id).await), "VERIFY_RESIZE");
    assert_eq!(act(&alpha, &id, json!({"revertResize": null})).await.0, 202);
    let b = settled(&admin, &id).await;
    assert_eq!((status(&b), node_of(&b)), ("SHUTOFF", there.clone()), "{b}");
    guest_becomes(sim(&here), &id, None).await;
    assert_eq!(act(&alpha, &id, json!({"os-start": null})).await.0, 202);
    assert_eq!(status(&settled(&alpha, &id).await), "ACTIVE");
    let (here, there) = (there, here);

    // The disk cannot be sent: the move is undone, the server runs where
    // it was, the log says why.
    sim(&here).fail_next(Op::Export, 1, "the disk is on fire");
    assert_eq!(act(&admin, &id, json!({"migrate": null})).await.0, 202);
    let b = settled(&admin, &id).await;
    assert_eq!((status(&b), node_of(&b)), ("ACTIVE", here.clone()), "{b}");
    guest_becomes(sim(&here), &id, Some(GuestState::Running)).await;
    assert_eq!(sim(&there).status(&id).await.unwrap(), None);
    let (name, result, why) = last_action(&admin, &id).await;
    assert_eq!((name.as_str(), result.as_str()), ("migrate", "Error"));
    assert!(why.contains("the disk is on fire"), "{why}");
    assert_eq!(held(cloud, &admin_token, &id).await, [(here.clone(), 512)]);

    // Over quota: refused at once, named as Nova does.
    let (s, b) = act(&alpha, &id, json!({"resize": {"flavorRef": "9"}})).await;
    assert_eq!(s, 403, "{b}");
    assert!(message(&b).starts_with("Quota exceeded for ram"), "{b}");

    // No node can take it (the other one is disabled): undone, still
    // running, the log says why.
    let there_name = if there == n1 { "edge1-a" } else { "edge1-b" };
    let off = json!({"host": there_name, "binary": "nova-compute"});
    assert_eq!(
        admin.put("/v2.1/os-services/disable", off.clone()).await.0,
        200
    );
    assert_eq!(
        act(&alpha, &id, json!({"resize": {"flavorRef": "1"}}))
            .await
            .0,
        202
    );
    let b = settled(&alpha, &id).await;
    assert_eq!(status(&b), "ACTIVE", "{b}");
    assert_eq!(b["server"]["flavor"]["id"], "2", "{b}");
    let (name, result, why) = last_action(&admin, &id).await;
    assert_eq!((name.as_str(), result.as_str()), ("resize", "Error"));
    assert!(why.contains("No valid host was found"), "{why}");
    assert_eq!(admin.put("/v2.1/os-services/enable", off).await.0, 200);

    // Every move, for operators, newest first, as Nova lists them.
    assert_eq!(alpha.get("/v2.1/os-migrations").await.0, 403);
    let (s, b) = admin
        .get(&format!("/v2.1/os-migrations?instance_uuid={id}"))
        .await;
    assert_eq!(s, 200, "{b}");
    let seen: Vec<(&str, &str)> = b["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["status"].as_str().unwrap(),
                m["new_instance_type_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("error", "1"),
            ("error", "2"),
            ("reverted", "2"),
            ("confirmed", "2"),
            ("reverted", "2"),
            ("confirmed", "2")
        ]
    );
    let first = &b["migrations"][5];
    assert!(first["id"].is_i64(), "{first}");
    assert_eq!(
        (
            &first["source_compute"],
            &first["dest_compute"],
            &first["old_instance_type_id"]
        ),
        (&json!(src), &json!(dst), &json!("1")),
        "{first}"
    );
    let (_, b) = admin.get("/v2.1/os-migrations?status=reverted").await;
    assert_eq!(b["migrations"].as_array().unwrap().len(), 2, "{b}");

    // Deleted while waiting for a confirm: nothing stays on either node.
    assert_eq!(
        act(&alpha, &id, json!({"resize": {"flavorRef": "1"}}))
            .await
            .0,
        202
    );
    assert_eq!(status(&settled(&alpha, &id).await), "VERIFY_RESIZE");
    assert_eq!(alpha.delete(&format!("/v2.1/servers/{id}")).await.0, 204);
    until(&alpha, &id, |s, _| s == 404).await;
    guest_becomes(&s1, &id, None).await;
    guest_becomes(&s2, &id, None).await;
    assert!(held(cloud, &admin_token, &id).await.is_empty());
    for n in [&n1, &n2] {
        let usage = super::resource_provider::placement(
            cloud,
            &admin_token,
            "1.28",
            reqwest::Method::GET,
            &format!("/resource_providers/{n}/usages"),
            None,
        )
        .await
        .1;
        assert_eq!(usage["usages"]["MEMORY_MB"], 0, "{usage}");
    }

    a1.stop().await;
    a2.stop().await;
}

async fn node_state(admin: &Nova<'_>, hostname: &str) -> String {
    let (_, b) = admin.get("/v2.1/os-services").await;
    b["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["host"] == hostname)
        .map(|s| s["state"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn evacuation(cloud: &Cloud) {
    let (admin_token, alpha_token) = {
        let (admin, alpha, _, _) = callers(cloud).await;
        flavor(&admin, "1", 256).await;
        (admin.token, alpha.token)
    };
    let img = image(cloud, &alpha_token, "private").await;
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let sims = [
        Simulated::new(SimConfig::default()),
        Simulated::new(SimConfig::default()),
    ];
    let names = ["edge1-a", "edge1-b"];
    let start = |i: usize| {
        let mut c = agent_config("edge1");
        c.hostname = Some(names[i].into());
        let bus = virga_agent::BusSource::Ready(cloud.bus.clone());
        TestAgent::start(bus, dirs[i].path(), sims[i].clone(), c)
    };
    let mut agents = vec![Some(start(0).await), Some(start(1).await)];
    let nodes: Vec<String> = agents
        .iter()
        .map(|a| a.as_ref().unwrap().running.node.clone())
        .collect();
    for n in &nodes {
        registered(cloud, n).await;
    }
    let admin = Nova {
        cloud,
        token: admin_token.clone(),
    };
    let alpha = Nova {
        cloud,
        token: alpha_token.clone(),
    };
    let (s, b) = alpha.post("/v2.1/servers", server("vm", &img, "1")).await;
    assert_eq!(s, 202, "{b}");
    let id = b["server"]["id"].as_str().unwrap().to_owned();
    let (_, b) = until(&alpha, &id, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&b), "ACTIVE", "{b}");
    let (_, b) = admin.get(&format!("/v2.1/servers/{id}")).await;
    let lost = nodes
        .iter()
        .position(|n| b["server"]["OS-EXT-SRV-ATTR:host"] == n.as_str())
        .unwrap();
    let kept = 1 - lost;

    // Its node is up: nothing to evacuate; only operators may.
    let (s, b) = act(&admin, &id, json!({"evacuate": {"onSharedStorage": false}})).await;
    assert_eq!(
        (s, message(&b)),
        (
            409,
            format!("Compute service of {} is still in use.", names[lost])
        )
    );
    assert_eq!(act(&alpha, &id, json!({"evacuate": {}})).await.0, 403);
    let (s, b) = act(&admin, &id, json!({"evacuate": {"onSharedStorage": true}})).await;
    assert_eq!(s, 400, "{b}");

    // The node goes down: rebuilt from its image on the other one.
    agents[lost].take().unwrap().stop().await;
    for _ in 0..100 {
        if node_state(&admin, names[lost]).await == "down" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(node_state(&admin, names[lost]).await, "down");
    let (s, b) = act(&admin, &id, json!({"evacuate": {"host": names[kept]}})).await;
    assert_eq!(s, 200, "{b}");
    let b = settled(&admin, &id).await;
    assert_eq!(status(&b), "ACTIVE", "{b}");
    assert_eq!(
        b["server"]["OS-EXT-SRV-ATTR:host"],
        nodes[kept].as_str(),
        "{b}"
    );
    guest_becomes(&sims[kept], &id, Some(GuestState::Running)).await;
    let built = sims[kept].image_of(&id).unwrap();
    // The image's own data (the test image is 4 KiB of 7s), not a disk.
    assert_eq!(std::fs::read(&built.path).unwrap(), vec![7u8; 4096]);
    assert_eq!(
        held(cloud, &admin_token, &id).await,
        [(nodes[kept].clone(), 256)]
    );
    let (name, result, _) = last_action(&admin, &id).await;
    assert_eq!((name.as_str(), result.as_str()), ("evacuate", "Success"));

    // The lost node's host reboots, its agent comes back: it takes in the
    // commands queued meanwhile before restoring anything, so the guest is
    // destroyed without ever being started again; the server stays.
    assert_eq!(
        sims[lost].status(&id).await.unwrap(),
        Some(GuestState::Running)
    );
    sims[lost].host_reboot();
    let before = sims[lost].done_to(&id).len();
    agents[lost] = Some(start(lost).await);
    guest_becomes(&sims[lost], &id, None).await;
    assert_eq!(sims[lost].done_to(&id)[before..], [Op::Destroy]);
    let (_, b) = admin.get(&format!("/v2.1/servers/{id}")).await;
    assert_eq!(
        (status(&b), &b["server"]["OS-EXT-SRV-ATTR:host"]),
        ("ACTIVE", &json!(nodes[kept])),
        "{b}"
    );
    for a in agents.into_iter().flatten() {
        a.stop().await;
    }
}

/// The compute service stops right after accepting each step of a move's
/// life (nodes slowed, so it is mid-saga); restarted, it carries on.
async fn restarts(cloud: &mut Cloud) {
    let (admin_token, alpha_token) = {
        let (admin, alpha, _, _) = callers(cloud).await;
        flavor(&admin, "1", 256).await;
        flavor(&admin, "2", 512).await;
        (admin.token, alpha.token)
    };
    let img = image(cloud, &alpha_token, "private").await;
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let slow = SimConfig {
        delay: Duration::from_millis(300),
        ..SimConfig::default()
    };
    let sims = [Simulated::new(slow.clone()), Simulated::new(slow)];
    let mut agents = Vec::new();
    for (i, name) in ["edge1-a", "edge1-b"].into_iter().enumerate() {
        let mut c = agent_config("edge1");
        c.hostname = Some(name.into());
        let bus = virga_agent::BusSource::Ready(cloud.bus.clone());
        agents.push(TestAgent::start(bus, dirs[i].path(), sims[i].clone(), c).await);
    }
    let nodes: Vec<String> = agents.iter().map(|a| a.running.node.clone()).collect();
    for n in &nodes {
        registered(cloud, n).await;
    }
    let id = {
        let alpha = Nova {
            cloud,
            token: alpha_token.clone(),
        };
        let (s, b) = alpha.post("/v2.1/servers", server("vm", &img, "1")).await;
        assert_eq!(s, 202, "{b}");
        let id = b["server"]["id"].as_str().unwrap().to_owned();
        let (_, b) = until(&alpha, &id, |_, b| status(b) != "BUILD").await;
        assert_eq!(status(&b), "ACTIVE", "{b}");
        id
    };
    let sim_of = |node: &str| &sims[nodes.iter().position(|n| n == node).unwrap()];
    let steps = [
        (
            alpha_token.clone(),
            json!({"resize": {"flavorRef": "2"}}),
            202,
            "VERIFY_RESIZE",
        ),
        (
            alpha_token.clone(),
            json!({"confirmResize": null}),
            204,
            "ACTIVE",
        ),
        (
            admin_token.clone(),
            json!({"migrate": null}),
            202,
            "VERIFY_RESIZE",
        ),
        (
            alpha_token.clone(),
            json!({"revertResize": null}),
            202,
            "ACTIVE",
        ),
    ];
    for (i, (token, body, code, want)) in steps.into_iter().enumerate() {
        {
            let c = Nova { cloud, token };
            assert_eq!(act(&c, &id, body).await.0, code, "step {i}");
        }
        // Stopped a little later each time: a different step is cut.
        tokio::time::sleep(Duration::from_millis(150 * i as u64)).await;
        cloud.stop_service("compute").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        cloud.start_service("compute").await;
        let admin = Nova {
            cloud,
            token: admin_token.clone(),
        };
        let b = settled(&admin, &id).await;
        assert_eq!(status(&b), want, "step {i}: {b}");
        let here = b["server"]["OS-EXT-SRV-ATTR:host"].as_str().unwrap();
        guest_becomes(sim_of(here), &id, Some(GuestState::Running)).await;
        let other = nodes.iter().find(|n| *n != here).unwrap();
        // Waiting for a confirm, the source keeps its stopped guest; once
        // confirmed or reverted, only one node has one.
        let there = if want == "VERIFY_RESIZE" {
            Some(GuestState::Stopped)
        } else {
            None
        };
        guest_becomes(sim_of(other), &id, there).await;
    }
    let (_, b) = Nova {
        cloud,
        token: admin_token.clone(),
    }
    .get(&format!("/v2.1/servers/{id}"))
    .await;
    let host = b["server"]["OS-EXT-SRV-ATTR:host"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(held(cloud, &admin_token, &id).await, [(host, 512)]);
    for a in agents {
        a.stop().await;
    }
}
