//! What each compute microversion past 2.1 changes, end to end on the
//! simulated hypervisor with two nodes, on both backends (key pairs' 2.2
//! and 2.10 are in `key_pair`): 2.3's extended attributes for admins,
//! 2.6 and 2.8's remote consoles (none is available: Virga runs no
//! console proxy), 2.9's `locked`, 2.11's forced-down services (a forced
//! node's server evacuated at once), 2.13's group owners, 2.14's evacuate
//! without `onSharedStorage`, 2.15's soft group policies placed by the
//! scheduler's weighers (kept apart or together as far as the nodes
//! allow, never refused for it), 2.16's `host_status`, 2.17's crash
//! dump, 2.19's descriptions, 2.21's actions of deleted servers, and
//! 2.22 to 2.24's in-progress live migrations (never any: moves here are
//! cold).

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use virga_agent::driver::simulated::{Op, SimConfig, Simulated};
use virga_tests::Cloud;

use super::agent::{TestAgent, agent_config, registered};
use super::nova::{Nova, callers, message};
use super::server::{flavor, image, server, status, until};
use super::server_action::settled;

crate::on_both_backends!(later_microversions);

const NAMES: [&str; 2] = ["mv-a", "mv-b"];

async fn show(c: &Nova<'_>, v: &str, id: &str) -> Value {
    let (s, b) = c
        .at(v, Method::GET, &format!("/v2.1/servers/{id}"), None)
        .await;
    assert_eq!(s, 200, "{b}");
    b["server"].clone()
}

/// Creates `count` servers named `name` (and a suffix) in `group` and
/// waits for them: their ids.
async fn in_group(alpha: &Nova<'_>, img: &str, group: &str, count: u32, name: &str) -> Vec<String> {
    let mut body = server(name, img, "1");
    body["server"]["min_count"] = json!(count);
    body["server"]["max_count"] = json!(count);
    body["os:scheduler_hints"] = json!({ "group": group });
    let (s, b) = alpha.post("/v2.1/servers", body).await;
    assert_eq!(s, 202, "{b}");
    let (_, b) = alpha.get(&format!("/v2.1/servers?name=^{name}")).await;
    let ids: Vec<String> = b["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), count as usize, "{b}");
    for id in &ids {
        let (_, b) = until(alpha, id, |_, b| status(b) != "BUILD").await;
        assert_eq!(status(&b), "ACTIVE", "{b}");
    }
    ids
}

async fn hosts(admin: &Nova<'_>, ids: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        let s = show(admin, "2.1", id).await;
        out.push(s["OS-EXT-SRV-ATTR:host"].as_str().unwrap().to_owned());
    }
    out
}

async fn group(alpha: &Nova<'_>, v: &str, policy: &str) -> (u16, Value) {
    alpha
        .at(
            v,
            Method::POST,
            "/v2.1/os-server-groups",
            Some(json!({"server_group": {"name": policy, "policies": [policy]}})),
        )
        .await
}

async fn service(admin: &Nova<'_>, v: &str, host: &str) -> Value {
    let (_, b) = admin.at(v, Method::GET, "/v2.1/os-services", None).await;
    b["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["host"] == host)
        .cloned()
        .unwrap_or_else(|| panic!("{host}: {b}"))
}

async fn later_microversions(cloud: &Cloud) {
    let (admin, alpha, alpha_project, beta) = callers(cloud).await;
    flavor(&admin, "1", 256).await;
    let img = image(cloud, &alpha.token, "private").await;
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut agents = Vec::new();
    let sims = [
        Simulated::new(SimConfig::default()),
        Simulated::new(SimConfig::default()),
    ];
    for (i, dir) in dirs.iter().enumerate() {
        let mut c = agent_config("edge1");
        c.hostname = Some(NAMES[i].into());
        let bus = virga_agent::BusSource::Ready(cloud.bus.clone());
        let a = TestAgent::start(bus, dir.path(), sims[i].clone(), c).await;
        registered(cloud, &a.running.node).await;
        agents.push(a);
    }
    let nodes: Vec<String> = agents.iter().map(|a| a.running.node.clone()).collect();

    // 2.15: the soft policies, refused before.
    let (s, b) = group(&alpha, "2.14", "soft-anti-affinity").await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = group(&alpha, "2.15", "soft-anti-affinity").await;
    assert_eq!(s, 200, "{b}");
    let apart = b["server_group"]["id"].as_str().unwrap().to_owned();
    // 2.13: with its project and user.
    assert_eq!(
        b["server_group"]["project_id"],
        alpha_project.as_str(),
        "{b}"
    );
    assert!(b["server_group"]["user_id"].is_string(), "{b}");
    let (_, b) = alpha
        .at(
            "2.12",
            Method::GET,
            &format!("/v2.1/os-server-groups/{apart}"),
            None,
        )
        .await;
    assert!(b["server_group"].get("project_id").is_none(), "{b}");
    // Three apart on two nodes: no hard refusal, as even a spread as the
    // nodes allow (2 and 1).
    let ids = in_group(&alpha, &img, &apart, 3, "apart").await;
    let on: Vec<String> = hosts(&admin, &ids).await;
    let used: BTreeSet<&String> = on.iter().collect();
    assert_eq!(used.len(), 2, "spread over both nodes: {on:?}");
    // Two together, one at a time: the second joins the first's node
    // though it is the fuller one.
    let (_, b) = group(&alpha, "2.15", "soft-affinity").await;
    let together = b["server_group"]["id"].as_str().unwrap().to_owned();
    let first = in_group(&alpha, &img, &together, 1, "first").await;
    let second = in_group(&alpha, &img, &together, 1, "second").await;
    let on = hosts(&admin, &[first[0].clone(), second[0].clone()]).await;
    assert_eq!(on[0], on[1], "kept together");

    // 2.3: the extended attributes, for admins.
    let id = &first[0];
    let s = show(&admin, "2.3", id).await;
    assert!(
        s["OS-EXT-SRV-ATTR:reservation_id"]
            .as_str()
            .unwrap()
            .starts_with("r-"),
        "{s}"
    );
    assert_eq!(s["OS-EXT-SRV-ATTR:launch_index"], 0, "{s}");
    assert_eq!(s["OS-EXT-SRV-ATTR:hostname"], "first", "{s}");
    assert_eq!(s["OS-EXT-SRV-ATTR:root_device_name"], "/dev/vda", "{s}");
    assert_eq!(s["OS-EXT-SRV-ATTR:kernel_id"], "", "{s}");
    assert!(s["OS-EXT-SRV-ATTR:user_data"].is_null(), "{s}");
    let s = show(&admin, "2.2", id).await;
    assert!(s.get("OS-EXT-SRV-ATTR:hostname").is_none(), "2.2: {s}");
    assert!(s["OS-EXT-SRV-ATTR:host"].is_string(), "2.1's are kept: {s}");
    let s = show(&alpha, "2.3", id).await;
    assert!(s.get("OS-EXT-SRV-ATTR:hostname").is_none(), "a member: {s}");
    // 2.9: whether it is locked.
    assert!(show(&alpha, "2.8", id).await.get("locked").is_none());
    assert_eq!(show(&alpha, "2.9", id).await["locked"], false);
    // 2.16: its node's status, for admins.
    assert_eq!(show(&admin, "2.16", id).await["host_status"], "UP");
    assert!(show(&admin, "2.15", id).await.get("host_status").is_none());
    assert!(show(&alpha, "2.16", id).await.get("host_status").is_none());
    let (_, b) = admin
        .at(
            "2.16",
            Method::GET,
            "/v2.1/servers/detail?all_tenants=1",
            None,
        )
        .await;
    assert!(
        b["servers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["host_status"] == "UP"),
        "{b}"
    );

    // 2.17: a crash dump, by an NMI the node sends the guest.
    let action = format!("/v2.1/servers/{id}/action");
    let dump = json!({"trigger_crash_dump": null});
    let (s, _) = alpha
        .at("2.16", Method::POST, &action, Some(dump.clone()))
        .await;
    assert_eq!(s, 404, "2.17's");
    let (s, b) = alpha
        .at("2.17", Method::POST, &action, Some(dump.clone()))
        .await;
    assert_eq!(s, 202, "{b}");
    let sim = &sims[nodes.iter().position(|n| *n == on[0]).unwrap()];
    assert!(sim.done_to(id).contains(&Op::Nmi), "{:?}", sim.done_to(id));
    let (_, b) = alpha
        .get(&format!("/v2.1/servers/{id}/os-instance-actions"))
        .await;
    assert_eq!(
        b["instanceActions"][0]["action"], "trigger_crash_dump",
        "{b}"
    );
    let (s, b) = beta
        .at("2.17", Method::POST, &action, Some(dump.clone()))
        .await;
    assert_eq!(s, 404, "another project's: {b}");
    let other_id = &second[0];
    let (s, _) = alpha
        .post(
            &format!("/v2.1/servers/{other_id}/action"),
            json!({"os-stop": null}),
        )
        .await;
    assert_eq!(s, 202);
    let b = settled(&alpha, other_id).await;
    assert_eq!(status(&b), "SHUTOFF", "{b}");
    let (s, b) = alpha
        .at(
            "2.17",
            Method::POST,
            &format!("/v2.1/servers/{other_id}/action"),
            Some(dump),
        )
        .await;
    assert_eq!(
        (s, message(&b)),
        (
            409,
            format!(
                "Cannot 'trigger_crash_dump' instance {other_id} while it is in vm_state stopped"
            )
        )
    );

    // 2.6: remote consoles; none is available here.
    let console = |v: &'static str, protocol: &'static str, kind: &'static str| {
        let path = format!("/v2.1/servers/{id}/remote-consoles");
        let body = json!({"remote_console": {"protocol": protocol, "type": kind}});
        let alpha = &alpha;
        async move { alpha.at(v, Method::POST, &path, Some(body)).await }
    };
    assert_eq!(console("2.5", "vnc", "novnc").await.0, 404);
    let (s, b) = console("2.6", "vnc", "novnc").await;
    assert_eq!(
        (s, message(&b).as_str()),
        (400, "Unavailable console type novnc.")
    );
    let (s, b) = console("2.6", "vnc", "spice-html5").await;
    assert_eq!(
        (s, message(&b).as_str()),
        (400, "Invalid console type spice-html5")
    );
    let (s, b) = console("2.6", "mks", "webmks").await;
    assert!(
        s == 400 && message(&b).contains("Invalid input for field/attribute protocol"),
        "mks is 2.8's: {b}"
    );
    let (s, b) = console("2.8", "mks", "webmks").await;
    assert_eq!(
        (s, message(&b).as_str()),
        (400, "Unavailable console type webmks.")
    );
    let path = format!("/v2.1/servers/{id}/remote-consoles");
    let body = json!({"remote_console": {"protocol": "vnc", "type": "novnc"}});
    assert_eq!(
        beta.at("2.6", Method::POST, &path, Some(body)).await.0,
        404,
        "another project's"
    );

    // 2.11: a node forced down, its server evacuated at once; 2.14: no
    // `onSharedStorage` any more.
    let host = &on[0];
    let name = NAMES[nodes.iter().position(|n| n == host).unwrap()];
    let other = NAMES.iter().find(|n| **n != name).unwrap();
    assert_eq!(service(&admin, "2.11", name).await["forced_down"], false);
    assert!(
        service(&admin, "2.10", name)
            .await
            .get("forced_down")
            .is_none()
    );
    let body = |on: bool| json!({"host": name, "binary": "nova-compute", "forced_down": on});
    let put = "/v2.1/os-services/force-down";
    assert_eq!(
        admin.at("2.10", Method::PUT, put, Some(body(true))).await.0,
        404
    );
    assert_eq!(
        alpha.at("2.11", Method::PUT, put, Some(body(true))).await.0,
        403
    );
    let (s, b) = admin
        .at(
            "2.11",
            Method::PUT,
            put,
            Some(json!({"host": name, "binary": "nova-compute"})),
        )
        .await;
    assert!(s == 400 && message(&b).contains("forced_down"), "{b}");
    let (s, b) = admin.at("2.11", Method::PUT, put, Some(body(true))).await;
    assert_eq!(
        (s, &b["service"]),
        (
            200,
            &json!({"host": name, "binary": "nova-compute", "forced_down": true})
        ),
        "{b}"
    );
    let svc = service(&admin, "2.11", name).await;
    assert_eq!(
        (&svc["forced_down"], &svc["state"]),
        (&json!(true), &json!("down")),
        "{svc}"
    );
    assert_eq!(show(&admin, "2.16", id).await["host_status"], "DOWN");
    let evacuate = format!("/v2.1/servers/{id}/action");
    let (s, b) = admin
        .at(
            "2.14",
            Method::POST,
            &evacuate,
            Some(json!({"evacuate": {"onSharedStorage": false}})),
        )
        .await;
    assert!(
        s == 400 && message(&b).contains("'onSharedStorage' was unexpected"),
        "{b}"
    );
    let (s, b) = admin
        .at(
            "2.14",
            Method::POST,
            &evacuate,
            Some(json!({"evacuate": {"host": other}})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let b = settled(&admin, id).await;
    let moved_to = &nodes[NAMES.iter().position(|n| n == other).unwrap()];
    assert_eq!(
        (status(&b), &b["server"]["OS-EXT-SRV-ATTR:host"]),
        ("ACTIVE", &json!(moved_to)),
        "{b}"
    );
    let (s, _) = admin.at("2.11", Method::PUT, put, Some(body(false))).await;
    assert_eq!(s, 200);
    let svc = service(&admin, "2.11", name).await;
    assert_eq!(
        (&svc["forced_down"], &svc["state"]),
        (&json!(false), &json!("up")),
        "{svc}"
    );

    // 2.22 to 2.24: in-progress live migrations; none here (moves are
    // cold); 2.23: the moves' types.
    let lives = format!("/v2.1/servers/{id}/migrations");
    assert_eq!(admin.at("2.22", Method::GET, &lives, None).await.0, 404);
    let (s, b) = admin.at("2.23", Method::GET, &lives, None).await;
    assert_eq!((s, b), (200, json!({"migrations": []})));
    assert_eq!(alpha.at("2.23", Method::GET, &lives, None).await.0, 403);
    let (s, b) = admin
        .at("2.23", Method::GET, &format!("{lives}/1"), None)
        .await;
    assert_eq!(
        (s, message(&b)),
        (404, format!("Migration 1 not found for instance {id}"))
    );
    let force = format!("{lives}/1/action");
    let done = json!({"force_complete": null});
    assert_eq!(
        admin
            .at("2.21", Method::POST, &force, Some(done.clone()))
            .await
            .0,
        404
    );
    let (s, b) = admin.at("2.22", Method::POST, &force, Some(done)).await;
    assert_eq!(
        (s, message(&b)),
        (
            409,
            format!(
                "Cannot 'live_migrate_force_complete' instance {id} while it is in task_state None"
            )
        )
    );
    let (s, _) = admin
        .at("2.22", Method::POST, &force, Some(json!({"force": 1})))
        .await;
    assert_eq!(s, 400);
    let one = format!("{lives}/1");
    assert_eq!(admin.at("2.23", Method::DELETE, &one, None).await.0, 404);
    let (s, b) = admin.at("2.24", Method::DELETE, &one, None).await;
    assert_eq!(
        (s, message(&b)),
        (
            409,
            format!("Cannot 'live_migrate_abort' instance {id} while it is in task_state None")
        )
    );
    let moves = format!("/v2.1/os-migrations?instance_uuid={id}");
    let (_, b) = admin.at("2.23", Method::GET, &moves, None).await;
    assert_eq!(b["migrations"][0]["migration_type"], "evacuation", "{b}");
    let (_, b) = admin.at("2.22", Method::GET, &moves, None).await;
    assert!(b["migrations"][0].get("migration_type").is_none(), "{b}");

    // 2.19: a description, set at create, rebuild and update.
    let mut body = server("described", &img, "1");
    body["server"]["description"] = json!("the web tier");
    let (s, b) = alpha
        .at("2.18", Method::POST, "/v2.1/servers", Some(body.clone()))
        .await;
    assert!(
        s == 400 && message(&b).contains("'description' was unexpected"),
        "{b}"
    );
    let (s, b) = alpha
        .at("2.19", Method::POST, "/v2.1/servers", Some(body))
        .await;
    assert_eq!(s, 202, "{b}");
    let did = b["server"]["id"].as_str().unwrap().to_owned();
    let (_, b) = until(&alpha, &did, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&b), "ACTIVE", "{b}");
    assert_eq!(
        show(&alpha, "2.19", &did).await["description"],
        "the web tier"
    );
    assert!(
        show(&alpha, "2.18", &did)
            .await
            .get("description")
            .is_none()
    );
    let path = format!("/v2.1/servers/{did}");
    let (s, b) = alpha
        .at(
            "2.19",
            Method::POST,
            &format!("{path}/action"),
            Some(json!({"rebuild": {"imageRef": img, "description": "rebuilt"}})),
        )
        .await;
    assert_eq!(
        (s, &b["server"]["description"]),
        (202, &json!("rebuilt")),
        "{b}"
    );
    settled(&alpha, &did).await;
    let (s, b) = alpha
        .at(
            "2.19",
            Method::PUT,
            &path,
            Some(json!({"server": {"description": null}})),
        )
        .await;
    assert_eq!((s, &b["server"]["description"]), (200, &Value::Null), "{b}");
    let (s, b) = alpha
        .at(
            "2.19",
            Method::PUT,
            &path,
            Some(json!({"server": {"description": "a\u{7}b"}})),
        )
        .await;
    assert_eq!(s, 400, "not printable: {b}");

    // 2.21: a deleted server's actions, to its project.
    assert_eq!(alpha.delete(&path).await.0, 204);
    until(&alpha, &did, |s, _| s == 404).await;
    let actions = format!("{path}/os-instance-actions");
    assert_eq!(alpha.at("2.20", Method::GET, &actions, None).await.0, 404);
    let (s, b) = alpha.at("2.21", Method::GET, &actions, None).await;
    let names: Vec<&str> = b["instanceActions"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        (s, names),
        (200, vec!["delete", "rebuild", "create"]),
        "{b}"
    );
    assert_eq!(
        beta.at("2.21", Method::GET, &actions, None).await.0,
        404,
        "another project's"
    );

    for a in agents {
        a.stop().await;
    }
}
