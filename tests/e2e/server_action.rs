//! Server actions end to end on the simulated hypervisor, on both
//! backends: stop, start, soft and hard reboot, pause, unpause, rebuild
//! (another image, the same one, a stopped server), the console log, lock
//! and unlock; each in the state table's bounds (409 naming the state),
//! each logged in `os-instance-actions`; a start the node refuses is
//! undone; an action accepted while the node is down and the compute
//! service restarts finishes once both are back. On a private RabbitMQ
//! node: a create, a stop and a delete each survive a broker restart.

use std::time::Duration;

use serde_json::{Value, json};
use virga_agent::driver::simulated::{Op, SimConfig, Simulated};
use virga_agent::driver::{Driver, GuestState};
use virga_testkit::rabbitmq::PrivateRabbitMq;
use virga_tests::{Backend, Cloud};

use super::agent::registered;
use super::nova::{Nova, callers, message};
use super::server::{flavor, image, server, start_agent, status, until};

mod actions {
    use super::*;

    #[tokio::test]
    async fn embedded() {
        let mut cloud = Cloud::start(Backend::Embedded).await;
        super::actions(&mut cloud).await;
        cloud.stop().await;
    }

    #[tokio::test]
    async fn distributed() {
        let mut cloud = Cloud::start(Backend::Distributed).await;
        super::actions(&mut cloud).await;
        cloud.stop().await;
    }
}

pub(crate) async fn act(c: &Nova<'_>, id: &str, body: Value) -> (u16, Value) {
    c.post(&format!("/v2.1/servers/{id}/action"), body).await
}

/// Polls until the server has no task; returns it.
pub(crate) async fn settled(c: &Nova<'_>, id: &str) -> Value {
    until(c, id, |_, b| b["server"]["OS-EXT-STS:task_state"].is_null())
        .await
        .1
}

pub(crate) async fn guest_becomes(sim: &Simulated, id: &str, want: Option<GuestState>) {
    for _ in 0..200 {
        if sim.status(id).await.unwrap() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("guest {id} never became {want:?}");
}

async fn actions(cloud: &mut Cloud) {
    let (admin_token, alpha_token, beta_token) = {
        let (admin, alpha, _, beta) = callers(cloud).await;
        flavor(&admin, "1", 256).await;
        (admin.token, alpha.token, beta.token)
    };
    let img = image(cloud, &alpha_token, "private").await;
    let img2 = image(cloud, &alpha_token, "private").await;
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulated::new(SimConfig::default());
    let agent = start_agent(cloud, dir.path(), &sim).await;
    registered(cloud, &agent.running.node).await;
    let (admin, alpha, beta) = (
        Nova {
            cloud,
            token: admin_token.clone(),
        },
        Nova {
            cloud,
            token: alpha_token.clone(),
        },
        Nova {
            cloud,
            token: beta_token,
        },
    );

    let (s, b) = alpha.post("/v2.1/servers", server("vm", &img, "1")).await;
    assert_eq!(s, 202, "{b}");
    let id = b["server"]["id"].as_str().unwrap().to_owned();
    let (_, b) = until(&alpha, &id, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&b), "ACTIVE", "{b}");

    // Bad input, the wrong state, another project's server.
    let (s, b) = act(&alpha, &id, json!({"hibernate": null})).await;
    assert_eq!(
        (s, message(&b).as_str()),
        (400, "There is no such action: hibernate")
    );
    let (s, b) = act(&alpha, &id, json!({"reboot": {"type": "gentle"}})).await;
    assert_eq!(s, 400);
    assert!(
        message(&b).contains("Invalid input for field/attribute type"),
        "{b}"
    );
    let (s, b) = act(&alpha, &id, json!({"reboot": {}})).await;
    assert_eq!(s, 400, "{b}");
    let (s, b) = act(&alpha, &id, json!({"os-start": null})).await;
    assert_eq!(
        (s, message(&b)),
        (
            409,
            format!("Cannot 'start' instance {id} while it is in vm_state active")
        )
    );
    let (s, _) = act(&alpha, &id, json!({"unpause": null})).await;
    assert_eq!(s, 409);
    let (s, b) = act(&beta, &id, json!({"os-stop": null})).await;
    assert_eq!(
        (s, message(&b)),
        (404, format!("Instance {id} could not be found."))
    );
    let missing = uuid::Uuid::new_v4();
    let (s, b) = act(
        &alpha,
        &id,
        json!({"rebuild": {"imageRef": missing.to_string()}}),
    )
    .await;
    assert_eq!(s, 400, "{b}");

    // Stop and start: the node carries them out, the record follows.
    let (s, b) = act(&alpha, &id, json!({"os-stop": null})).await;
    assert_eq!(s, 202, "{b}");
    let b = settled(&alpha, &id).await;
    assert_eq!(
        (status(&b), &b["server"]["OS-EXT-STS:power_state"]),
        ("SHUTOFF", &json!(4))
    );
    assert_eq!(sim.status(&id).await.unwrap(), Some(GuestState::Stopped));
    let (s, _) = act(&alpha, &id, json!({"os-stop": null})).await;
    assert_eq!(s, 409, "already stopped");
    assert_eq!(act(&alpha, &id, json!({"os-start": null})).await.0, 202);
    let b = settled(&alpha, &id).await;
    assert_eq!(
        (status(&b), &b["server"]["OS-EXT-STS:power_state"]),
        ("ACTIVE", &json!(1))
    );
    assert_eq!(sim.boots(&id), 2);

    // Reboots: soft, then hard; each boots the guest once more.
    assert_eq!(
        act(&alpha, &id, json!({"reboot": {"type": "SOFT"}}))
            .await
            .0,
        202
    );
    assert_eq!(status(&settled(&alpha, &id).await), "ACTIVE");
    assert_eq!(sim.boots(&id), 3);
    assert_eq!(
        act(&alpha, &id, json!({"reboot": {"type": "hard"}}))
            .await
            .0,
        202
    );
    assert_eq!(status(&settled(&alpha, &id).await), "ACTIVE");
    assert_eq!(sim.boots(&id), 4);

    // Pause and unpause.
    assert_eq!(act(&alpha, &id, json!({"pause": null})).await.0, 202);
    let b = settled(&alpha, &id).await;
    assert_eq!(
        (status(&b), &b["server"]["OS-EXT-STS:power_state"]),
        ("PAUSED", &json!(3))
    );
    assert_eq!(sim.status(&id).await.unwrap(), Some(GuestState::Paused));
    assert_eq!(act(&alpha, &id, json!({"unpause": null})).await.0, 202);
    assert_eq!(status(&settled(&alpha, &id).await), "ACTIVE");
    assert_eq!(sim.status(&id).await.unwrap(), Some(GuestState::Running));

    // The console log, whole and its last lines.
    let (s, b) = act(&alpha, &id, json!({"os-getConsoleOutput": {"length": -1}})).await;
    assert_eq!(s, 200, "{b}");
    let all = b["output"].as_str().unwrap().to_owned();
    assert!(all.contains("hard reboot"), "{all}");
    let (s, b) = act(&alpha, &id, json!({"os-getConsoleOutput": {"length": "2"}})).await;
    assert_eq!(s, 200, "{b}");
    let tail = b["output"].as_str().unwrap();
    assert_eq!(tail.lines().count(), 2, "{tail}");
    assert!(all.ends_with(tail), "{tail}");
    let (s, _) = act(&alpha, &id, json!({"os-getConsoleOutput": {"length": -2}})).await;
    assert_eq!(s, 400);

    // Rebuild onto another image, renamed; then the same image again.
    let (s, b) = act(
        &alpha,
        &id,
        json!({"rebuild": {"imageRef": img2, "name": "vm2"}}),
    )
    .await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["server"]["image"]["id"], img2.as_str(), "{b}");
    assert_eq!(b["server"]["status"], "REBUILD", "{b}");
    let b = settled(&alpha, &id).await;
    assert_eq!(
        (status(&b), &b["server"]["name"]),
        ("ACTIVE", &json!("vm2"))
    );
    assert_eq!(sim.boots(&id), 5);
    assert_eq!(
        act(&alpha, &id, json!({"rebuild": {"imageRef": img2}}))
            .await
            .0,
        202
    );
    assert_eq!(status(&settled(&alpha, &id).await), "ACTIVE");
    assert_eq!(sim.boots(&id), 6, "the same image is rebuilt too");
    // A stopped server is rebuilt stopped.
    assert_eq!(act(&alpha, &id, json!({"os-stop": null})).await.0, 202);
    settled(&alpha, &id).await;
    assert_eq!(
        act(&alpha, &id, json!({"rebuild": {"imageRef": img}}))
            .await
            .0,
        202
    );
    let b = settled(&alpha, &id).await;
    assert_eq!(
        (status(&b), &b["server"]["image"]["id"]),
        ("SHUTOFF", &json!(img))
    );
    assert_eq!(sim.status(&id).await.unwrap(), Some(GuestState::Stopped));

    // A start the node refuses: the server stays stopped, the log says why.
    sim.fail_next(Op::Start, 1, "the power supply is out");
    assert_eq!(act(&alpha, &id, json!({"os-start": null})).await.0, 202);
    let b = settled(&alpha, &id).await;
    assert_eq!(status(&b), "SHUTOFF", "{b}");
    guest_becomes(&sim, &id, Some(GuestState::Stopped)).await;

    // Renamed.
    let (s, b) = alpha
        .put(
            &format!("/v2.1/servers/{id}"),
            json!({"server": {"name": "vm3"}}),
        )
        .await;
    assert_eq!((s, &b["server"]["name"]), (200, &json!("vm3")), "{b}");
    let (s, _) = alpha
        .put(
            &format!("/v2.1/servers/{id}"),
            json!({"server": {"name": ""}}),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = beta
        .put(
            &format!("/v2.1/servers/{id}"),
            json!({"server": {"name": "x"}}),
        )
        .await;
    assert_eq!(s, 404);

    // Locks: the owner's stops the owner's actions until unlocked; an
    // admin's lock is the admin's to undo.
    assert_eq!(act(&alpha, &id, json!({"lock": null})).await.0, 202);
    let path = format!("/v2.1/servers/{id}");
    let (_, b) = alpha.at("2.9", reqwest::Method::GET, &path, None).await;
    assert_eq!(b["server"]["locked"], true, "2.9 shows it");
    let (s, b) = act(&alpha, &id, json!({"os-start": null})).await;
    assert_eq!((s, message(&b)), (409, format!("Instance {id} is locked")));
    assert_eq!(alpha.delete(&format!("/v2.1/servers/{id}")).await.0, 409);
    assert_eq!(act(&alpha, &id, json!({"unlock": null})).await.0, 202);
    assert_eq!(act(&admin, &id, json!({"lock": {}})).await.0, 202);
    assert_eq!(act(&alpha, &id, json!({"unlock": null})).await.0, 403);
    assert_eq!(act(&admin, &id, json!({"unlock": null})).await.0, 202);

    // The log: every action, newest first, under its request id; its
    // events (with why one failed) for admins.
    let (s, b) = alpha
        .get(&format!("/v2.1/servers/{id}/os-instance-actions"))
        .await;
    assert_eq!(s, 200, "{b}");
    let names: Vec<&str> = b["instanceActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "unlock", "lock", "unlock", "lock", "start", "rebuild", "stop", "rebuild", "rebuild",
            "unpause", "pause", "reboot", "reboot", "start", "stop", "create"
        ]
    );
    let actions = b["instanceActions"].as_array().unwrap();
    let refused = &actions[4];
    assert_eq!(refused["message"], "Error", "{refused}");
    let rid = refused["request_id"].as_str().unwrap();
    assert!(rid.starts_with("req-"));
    let path = format!("/v2.1/servers/{id}/os-instance-actions/{rid}");
    let (s, b) = admin.get(&path).await;
    assert_eq!(s, 200, "{b}");
    let ev = &b["instanceAction"]["events"][0];
    assert_eq!(
        (&ev["event"], &ev["result"]),
        (&json!("compute_start_instance"), &json!("Error"))
    );
    assert!(
        ev["traceback"]
            .as_str()
            .unwrap()
            .contains("the power supply is out"),
        "{ev}"
    );
    let (s, b) = alpha.get(&path).await;
    assert_eq!(s, 200);
    assert!(
        b["instanceAction"].get("events").is_none(),
        "events are for admins: {b}"
    );
    let created = actions.last().unwrap()["request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, b) = admin
        .get(&format!("/v2.1/servers/{id}/os-instance-actions/{created}"))
        .await;
    assert_eq!(b["instanceAction"]["events"][0]["result"], "Success", "{b}");
    let (s, _) = beta
        .get(&format!("/v2.1/servers/{id}/os-instance-actions"))
        .await;
    assert_eq!(s, 404);
    let (s, _) = alpha
        .get(&format!(
            "/v2.1/servers/{id}/os-instance-actions/req-nothing"
        ))
        .await;
    assert_eq!(s, 404);
    drop((admin, alpha, beta));

    // The node is down when a start is accepted, and compute stops too:
    // the server waits in `powering-on` (never done on silence) and the
    // start finishes once both are back.
    agent.stop().await;
    {
        let alpha = Nova {
            cloud,
            token: alpha_token.clone(),
        };
        assert_eq!(act(&alpha, &id, json!({"os-start": null})).await.0, 202);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, b) = alpha.get(&format!("/v2.1/servers/{id}")).await;
        assert_eq!(b["server"]["OS-EXT-STS:task_state"], "powering-on", "{b}");
    }
    cloud.stop_service("compute").await;
    let agent = start_agent(cloud, dir.path(), &sim).await;
    guest_becomes(&sim, &id, Some(GuestState::Running)).await;
    cloud.start_service("compute").await;
    {
        let alpha = Nova {
            cloud,
            token: alpha_token.clone(),
        };
        let b = settled(&alpha, &id).await;
        assert_eq!(status(&b), "ACTIVE", "{b}");
        assert_eq!(alpha.delete(&format!("/v2.1/servers/{id}")).await.0, 204);
        until(&alpha, &id, |s, _| s == 404).await;
    }
    agent.stop().await;
}

/// Polls (up to 2 minutes: the bus reconnects with a growing pause) until
/// `done` says so.
async fn eventually(c: &Nova<'_>, id: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        let (s, b) = c.get(&format!("/v2.1/servers/{id}")).await;
        if done(s, &b) {
            return b;
        }
        last = b;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("server {id} never got there: {last}");
}

/// RabbitMQ restarts (killed and started again, its durable queues kept)
/// right after a create, a stop and a delete are accepted: each finishes
/// once the services and the agent are back on the bus.
#[tokio::test(flavor = "multi_thread")]
async fn broker_restarts_mid_operation() {
    let rabbit = tokio::task::block_in_place(PrivateRabbitMq::start);
    let url = rabbit.url();
    let cloud = Cloud::start_with(Backend::Distributed, &[("VIRGA_BUS__URL", &url)]).await;
    let (admin, alpha, _, _) = callers(&cloud).await;
    flavor(&admin, "1", 256).await;
    let img = image(&cloud, &alpha.token, "private").await;
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulated::new(SimConfig::default());
    let agent = start_agent(&cloud, dir.path(), &sim).await;
    registered(&cloud, &agent.running.node).await;

    // A quorum queue declared just before the broker is killed was seen
    // to come back without a leader for minutes (RabbitMQ's, not ours):
    // the agent's new queue gets time to be written first.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (s, b) = alpha.post("/v2.1/servers", server("vm", &img, "1")).await;
    assert_eq!(s, 202, "{b}");
    let id = b["server"]["id"].as_str().unwrap().to_owned();
    tokio::task::block_in_place(|| rabbit.restart());
    let b = eventually(&alpha, &id, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&b), "ACTIVE", "{b}");

    assert_eq!(act(&alpha, &id, json!({"os-stop": null})).await.0, 202);
    tokio::task::block_in_place(|| rabbit.restart());
    let b = eventually(&alpha, &id, |_, b| {
        b["server"]["OS-EXT-STS:task_state"].is_null()
    })
    .await;
    assert_eq!(status(&b), "SHUTOFF", "{b}");
    assert_eq!(sim.status(&id).await.unwrap(), Some(GuestState::Stopped));

    assert_eq!(alpha.delete(&format!("/v2.1/servers/{id}")).await.0, 204);
    tokio::task::block_in_place(|| rabbit.restart());
    eventually(&alpha, &id, |s, _| s == 404).await;
    assert_eq!(sim.status(&id).await.unwrap(), None);
    drop((admin, alpha));
    agent.stop().await;
    cloud.stop().await;
}
