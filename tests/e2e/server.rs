//! Servers end to end on the simulated hypervisor, on both backends: a
//! project member's create is claimed on a node by the scheduler, built by
//! the node's agent from the image service's data, shown ACTIVE; another
//! project sees none of it; the bad inputs Nova names are 400s and 403s;
//! no node that fits leaves the server in ERROR with Nova's fault; delete
//! destroys the guest and gives the claim back.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use virga_agent::BusSource;
use virga_agent::driver::Driver;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_tests::Cloud;

use super::agent::{TestAgent, agent_config, registered};
use super::image::Caller;
use super::image_data::put_file;
use super::network::Net;
use super::nova::{Nova, callers, message};
use super::resource_provider::placement;

crate::on_both_backends!(servers, no_valid_host, networks);

/// A raw image of `alpha`'s, active.
pub(crate) async fn image(cloud: &Cloud, token: &str, visibility: &str) -> String {
    let c = Caller {
        cloud,
        token: token.to_owned(),
    };
    let img = c
        .create(json!({"name": "tiny", "disk_format": "raw", "container_format": "bare", "visibility": visibility}))
        .await;
    let id = img["id"].as_str().unwrap().to_owned();
    let put = put_file(&c, &id, "application/octet-stream", None, vec![7u8; 4096]).await;
    assert_eq!(put, 204);
    id
}

pub(crate) async fn flavor(admin: &Nova<'_>, id: &str, ram: u64) {
    let (s, b) = admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": format!("f{id}"), "id": id, "ram": ram, "vcpus": 1, "disk": 1}}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

pub(crate) fn server(name: &str, image: &str, flavor: &str) -> Value {
    json!({"server": {"name": name, "imageRef": image, "flavorRef": flavor}})
}

/// Polls the server until `done` says so; returns it.
pub(crate) async fn until(
    c: &Nova<'_>,
    id: &str,
    done: impl Fn(u16, &Value) -> bool,
) -> (u16, Value) {
    for _ in 0..300 {
        let (s, b) = c.get(&format!("/v2.1/servers/{id}")).await;
        if done(s, &b) {
            return (s, b);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server {id} never got there");
}

pub(crate) fn status(b: &Value) -> &str {
    b["server"]["status"].as_str().unwrap_or_default()
}

pub(crate) async fn allocations(cloud: &Cloud, admin: &str, consumer: &str) -> Value {
    let path = format!("/allocations/{consumer}");
    placement(cloud, admin, "1.28", Method::GET, &path, None)
        .await
        .1["allocations"]
        .clone()
}

async fn servers(cloud: &Cloud) {
    let (admin, alpha, alpha_project, beta) = callers(cloud).await;
    flavor(&admin, "1", 256).await;
    let img = image(cloud, &alpha.token, "private").await;
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulated::new(SimConfig::default());
    let agent = TestAgent::start(
        BusSource::Ready(cloud.bus.clone()),
        dir.path(),
        sim.clone(),
        agent_config("edge1"),
    )
    .await;
    let node = agent.running.node.clone();
    registered(cloud, &node).await;

    // Created, claimed, built, ACTIVE.
    let (s, b) = alpha.post("/v2.1/servers", server("vm1", &img, "1")).await;
    assert_eq!(s, 202, "{b}");
    let id = b["server"]["id"].as_str().unwrap().to_owned();
    assert!(
        b["server"]["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v2.1/servers/{id}"))
    );
    let (_, b) = until(&alpha, &id, |_, b| status(b) != "BUILD").await;
    let v = &b["server"];
    assert_eq!(v["status"], "ACTIVE", "{b}");
    assert_eq!(
        (
            v["OS-EXT-STS:vm_state"].clone(),
            v["OS-EXT-STS:power_state"].clone(),
            v["OS-EXT-STS:task_state"].clone()
        ),
        (json!("active"), json!(1), Value::Null)
    );
    assert_eq!(v["tenant_id"], alpha_project.as_str());
    assert_eq!(v["image"]["id"], img.as_str());
    assert_eq!(v["flavor"]["id"], "1");
    assert_eq!(v["hostId"].as_str().unwrap().len(), 56, "{v}");
    assert!(
        v.get("OS-EXT-SRV-ATTR:host").is_none(),
        "the node is an admin's to see"
    );
    assert!(v["OS-SRV-USG:launched_at"].is_string());
    assert_eq!(
        sim.status(&id).await.unwrap(),
        Some(virga_agent::driver::GuestState::Running)
    );
    let (_, a) = admin.get(&format!("/v2.1/servers/{id}")).await;
    assert_eq!(a["server"]["OS-EXT-SRV-ATTR:host"], node.as_str());
    let held = allocations(cloud, &admin.token, &id).await;
    assert_eq!(
        held[&node]["resources"],
        json!({"VCPU": 1, "MEMORY_MB": 256, "DISK_GB": 1}),
        "{held}"
    );

    // Compute asked the scheduler and the image service as its own
    // service user, which has no password to log in with over REST.
    let login = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "compute", "domain": {"id": "default"}, "password": ""}}}}});
    let resp = reqwest::Client::new()
        .post(format!("{}/v3/auth/tokens", cloud.url("identity")))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);

    // Listed for its project only; another project's is 404.
    let (_, l) = alpha.get("/v2.1/servers").await;
    assert_eq!(l["servers"].as_array().unwrap().len(), 1);
    assert_eq!(l["servers"][0]["id"], id.as_str());
    let (_, l) = alpha
        .get("/v2.1/servers/detail?status=ACTIVE&name=^VM")
        .await;
    assert_eq!(l["servers"][0]["status"], "ACTIVE", "{l}");
    let (_, l) = alpha.get("/v2.1/servers/detail?status=ERROR").await;
    assert_eq!(l["servers"], json!([]));
    let (_, l) = beta.get("/v2.1/servers").await;
    assert_eq!(l["servers"], json!([]));
    let (s, e) = beta.get(&format!("/v2.1/servers/{id}")).await;
    assert_eq!(
        (s, message(&e)),
        (404, format!("Instance {id} could not be found."))
    );
    assert_eq!(beta.delete(&format!("/v2.1/servers/{id}")).await.0, 404);
    let (_, l) = admin.get("/v2.1/servers?all_tenants=1").await;
    assert_eq!(l["servers"].as_array().unwrap().len(), 1);

    // Limits and quota usage count it.
    let (s, l) = alpha.get("/v2.1/limits").await;
    assert_eq!(s, 200, "{l}");
    let abs = &l["limits"]["absolute"];
    assert_eq!(
        (
            abs["totalInstancesUsed"].clone(),
            abs["totalCoresUsed"].clone(),
            abs["totalRAMUsed"].clone(),
            abs["maxTotalInstances"].clone()
        ),
        (json!(1), json!(1), json!(256), json!(10)),
        "{l}"
    );
    assert_eq!(l["limits"]["rate"], json!([]));
    let (s, _) = beta
        .get(&format!("/v2.1/limits?tenant_id={alpha_project}"))
        .await;
    assert_eq!(s, 403);
    let (_, l) = admin
        .get(&format!("/v2.1/limits?tenant_id={alpha_project}"))
        .await;
    assert_eq!(l["limits"]["absolute"]["totalInstancesUsed"], 1, "{l}");
    let (_, d) = alpha
        .get(&format!("/v2.1/os-quota-sets/{alpha_project}/detail"))
        .await;
    assert_eq!(
        d["quota_set"]["instances"],
        json!({"limit": 10, "in_use": 1, "reserved": 0}),
        "{d}"
    );
    assert_eq!(d["quota_set"]["ram"]["in_use"], 256, "{d}");

    // Bad input: each named.
    let bad = [
        (server("x", &img, "999"), "Flavor 999 could not be found."),
        (
            server("x", "00000000-0000-4000-8000-000000000000", "1"),
            "Image 00000000-0000-4000-8000-000000000000 could not be found.",
        ),
        (
            json!({"server": {"name": "x", "imageRef": img, "flavorRef": "1", "key_name": "nope"}}),
            "Invalid key_name provided.",
        ),
        (
            json!({"server": {"name": "x", "imageRef": img, "flavorRef": "1", "user_data": "not base64!"}}),
            "Invalid input for field/attribute user_data. Value: not base64!. 'not base64!' is not a 'base64'",
        ),
        (
            json!({"server": {"name": "x", "imageRef": "nope", "flavorRef": "1"}}),
            "Invalid input for field/attribute imageRef. Value: nope. 'nope' is not a 'uuid'",
        ),
        (
            json!({"server": {"name": "x", "imageRef": img, "flavorRef": "1", "color": "red"}}),
            "Invalid input for field/attribute server. Additional properties are not allowed ('color' was unexpected)",
        ),
        (
            json!({"server": {"name": " x", "imageRef": img, "flavorRef": "1"}}),
            "Invalid input for field/attribute name. Value:  x. The 'name' has leading or trailing whitespace, or a character that is not printable.",
        ),
    ];
    for (body, want) in bad {
        let (s, e) = alpha.post("/v2.1/servers", body).await;
        assert_eq!((s, message(&e)), (400, want.to_owned()));
    }
    // Another project's private image is not there for beta.
    let (s, e) = beta.post("/v2.1/servers", server("x", &img, "1")).await;
    assert_eq!(
        (s, message(&e)),
        (400, format!("Image {img} could not be found."))
    );

    // Quota: two instances at most; one more fits, two do not.
    let path = format!("/v2.1/os-quota-sets/{alpha_project}");
    let (s, _) = admin
        .put(&path, json!({"quota_set": {"instances": 2}}))
        .await;
    assert_eq!(s, 200);
    let mut two = server("pair", &img, "1");
    two["server"]["min_count"] = json!(2);
    let (s, e) = alpha.post("/v2.1/servers", two.clone()).await;
    assert_eq!(
        (s, message(&e)),
        (
            403,
            "Quota exceeded for instances: Requested 2, but already used 1 of 2 instances"
                .to_owned()
        )
    );
    // max_count is cut to what fits; the reservation id names the request.
    two["server"]["min_count"] = json!(1);
    two["server"]["max_count"] = json!(3);
    two["server"]["return_reservation_id"] = json!(true);
    let (s, r) = alpha.post("/v2.1/servers", two).await;
    assert_eq!(s, 202, "{r}");
    assert!(r["reservation_id"].as_str().unwrap().starts_with("r-"));
    let (_, l) = alpha.get("/v2.1/servers?name=^pair").await;
    let pair = l["servers"].as_array().unwrap();
    assert_eq!(pair.len(), 1, "{l}");
    let second = pair[0]["id"].as_str().unwrap().to_owned();
    until(&alpha, &second, |_, b| status(b) == "ACTIVE").await;

    // Delete: the guest goes, the claim is given back, the server is gone.
    for s in [&id, &second] {
        assert_eq!(alpha.delete(&format!("/v2.1/servers/{s}")).await.0, 204);
    }
    for s in [&id, &second] {
        until(&alpha, s, |st, _| st == 404).await;
        assert_eq!(sim.status(s).await.unwrap(), None);
        assert_eq!(allocations(cloud, &admin.token, s).await, json!({}));
    }
    let (_, l) = alpha.get("/v2.1/servers").await;
    assert_eq!(l["servers"], json!([]));
    // Admins still see the deleted ones with deleted=true.
    let (_, l) = admin
        .get("/v2.1/servers/detail?all_tenants=1&deleted=true")
        .await;
    assert_eq!(l["servers"][0]["status"], "DELETED", "{l}");
    agent.stop().await;
}

async fn no_valid_host(cloud: &Cloud) {
    let (admin, alpha, project, _) = callers(cloud).await;
    // More memory than any node has, within an unlimited quota.
    flavor(&admin, "huge", 64 << 20).await;
    let path = format!("/v2.1/os-quota-sets/{project}");
    let (s, _) = admin.put(&path, json!({"quota_set": {"ram": -1}})).await;
    assert_eq!(s, 200);
    let img = image(cloud, &alpha.token, "private").await;
    let (s, b) = alpha
        .post("/v2.1/servers", server("big", &img, "huge"))
        .await;
    assert_eq!(s, 202, "{b}");
    let id = b["server"]["id"].as_str().unwrap().to_owned();
    let (_, b) = until(&alpha, &id, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&b), "ERROR", "{b}");
    assert_eq!(b["server"]["fault"]["code"], 500);
    assert_eq!(b["server"]["fault"]["message"], "No valid host was found. ");
    assert!(b["server"]["fault"].get("details").is_none());
    let (_, a) = admin.get(&format!("/v2.1/servers/{id}")).await;
    assert!(a["server"]["fault"]["details"].is_string(), "{a}");
    assert_eq!(allocations(cloud, &admin.token, &id).await, json!({}));
    // Deleted at once: it never had a node.
    assert_eq!(alpha.delete(&format!("/v2.1/servers/{id}")).await.0, 204);
    until(&alpha, &id, |st, _| st == 404).await;
}

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

pub(crate) async fn start_agent(
    cloud: &Cloud,
    dir: &std::path::Path,
    sim: &Simulated,
) -> TestAgent {
    TestAgent::start(
        BusSource::Ready(cloud.bus.clone()),
        dir,
        sim.clone(),
        agent_config("edge1"),
    )
    .await
}

/// Sagas outlive the compute service: stopped while a claim waits for the
/// scheduler, while its node builds a server, and while its node destroys
/// it, a restarted service resumes each step, or finishes it from the
/// node's reports (and asks for them again, in case they came while it
/// was down).
async fn restarts(cloud: &mut Cloud) {
    let (admin_token, alpha_token) = {
        let (admin, alpha, _, _) = callers(cloud).await;
        flavor(&admin, "1", 256).await;
        (admin.token, alpha.token)
    };
    let img = image(cloud, &alpha_token, "private").await;
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulated::new(SimConfig::default());
    let agent = start_agent(cloud, dir.path(), &sim).await;
    let node = agent.running.node.clone();
    registered(cloud, &node).await;

    // The scheduler is down: the create's claim is retried; compute
    // stops meanwhile, and once both are back the build goes on.
    cloud.stop_service("scheduler").await;
    let early = {
        let alpha = Nova {
            cloud,
            token: alpha_token.clone(),
        };
        let (s, b) = alpha
            .post("/v2.1/servers", server("early", &img, "1"))
            .await;
        assert_eq!(s, 202, "{b}");
        b["server"]["id"].as_str().unwrap().to_owned()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    cloud.stop_service("compute").await;
    cloud.start_service("scheduler").await;
    cloud.start_service("compute").await;
    {
        let alpha = Nova {
            cloud,
            token: alpha_token.clone(),
        };
        let (_, b) = until(&alpha, &early, |_, b| status(b) != "BUILD").await;
        assert_eq!(status(&b), "ACTIVE", "{b}");
        assert_eq!(alpha.delete(&format!("/v2.1/servers/{early}")).await.0, 204);
        until(&alpha, &early, |s, _| s == 404).await;
    }

    // The node's agent is down: the build waits in its queue.
    agent.stop().await;
    let id = {
        let alpha = Nova {
            cloud,
            token: alpha_token.clone(),
        };
        let (s, b) = alpha.post("/v2.1/servers", server("vm", &img, "1")).await;
        assert_eq!(s, 202, "{b}");
        let id = b["server"]["id"].as_str().unwrap().to_owned();
        let (_, b) = until(&alpha, &id, |_, b| {
            b["server"]["OS-EXT-STS:task_state"] == "spawning"
        })
        .await;
        assert_eq!(status(&b), "BUILD");
        id
    };
    cloud.stop_service("compute").await;
    let agent = start_agent(cloud, dir.path(), &sim).await;
    for _ in 0..600 {
        if sim.status(&id).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        sim.status(&id).await.unwrap(),
        Some(virga_agent::driver::GuestState::Running),
        "the node built it while compute was down"
    );
    cloud.start_service("compute").await;
    let alpha = Nova {
        cloud,
        token: alpha_token.clone(),
    };
    let (_, b) = until(&alpha, &id, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&b), "ACTIVE", "{b}");
    drop(alpha);

    // Deleted while the node is down, finished after compute restarts.
    agent.stop().await;
    {
        let alpha = Nova {
            cloud,
            token: alpha_token.clone(),
        };
        assert_eq!(alpha.delete(&format!("/v2.1/servers/{id}")).await.0, 204);
        let (_, b) = alpha.get(&format!("/v2.1/servers/{id}")).await;
        assert_eq!(b["server"]["OS-EXT-STS:task_state"], "deleting", "{b}");
        // The node is silent: the server stays, being deleted.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (s, b) = alpha.get(&format!("/v2.1/servers/{id}")).await;
        assert_eq!((s, status(&b)), (200, "ACTIVE"), "{b}");
    }
    cloud.stop_service("compute").await;
    let agent = start_agent(cloud, dir.path(), &sim).await;
    // Up to 60 s: an agent restarting on a busy 2-core machine takes its
    // time, and may wait up to agent.restore_wait_secs for its queue.
    for _ in 0..1200 {
        if sim.status(&id).await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        sim.status(&id).await.unwrap(),
        None,
        "the node destroyed it"
    );
    cloud.start_service("compute").await;
    let alpha = Nova {
        cloud,
        token: alpha_token.clone(),
    };
    until(&alpha, &id, |s, _| s == 404).await;
    assert_eq!(allocations(cloud, &admin_token, &id).await, json!({}));
    agent.stop().await;
}

fn on(name: &str, image: &str, networks: Value) -> Value {
    json!({"server": {"name": name, "imageRef": image, "flavorRef": "1", "networks": networks}})
}

/// Servers on networks: a port made on each network asked for, or the
/// port given, bound to the server's node and shown in `addresses`; on
/// delete the made port goes, the given one stays, unbound. The network
/// service's refusal fails the build with its words.
async fn networks(cloud: &Cloud) {
    let (admin, alpha, _, beta) = callers(cloud).await;
    flavor(&admin, "1", 256).await;
    // Community: beta may boot it too (and fails only on the network).
    let img = image(cloud, &alpha.token, "community").await;
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulated::new(SimConfig::default());
    // The plan is kept, not applied: this test's host is no node's.
    let mut config = agent_config("edge1");
    config.network.dataplane = false;
    let agent = TestAgent::start(
        BusSource::Ready(cloud.bus.clone()),
        dir.path(),
        sim.clone(),
        config,
    )
    .await;
    let node = agent.running.node.clone();
    registered(cloud, &node).await;
    let net = Net {
        cloud,
        token: alpha.token.clone(),
    };
    let admin_net = Net {
        cloud,
        token: admin.token.clone(),
    };
    let n = net.create("network", json!({"name": "blue"})).await;
    let nid = n["id"].as_str().unwrap().to_owned();
    net.create(
        "subnet",
        json!({"network_id": nid, "cidr": "10.9.0.0/24", "ip_version": 4}),
    )
    .await;
    let given = net
        .create("port", json!({"network_id": nid, "name": "mine"}))
        .await;
    let given_id = given["id"].as_str().unwrap().to_owned();

    let (s, b) = alpha
        .post("/v2.1/servers", on("a", &img, json!([{"uuid": nid}])))
        .await;
    assert_eq!(s, 202, "{b}");
    let a = b["server"]["id"].as_str().unwrap().to_owned();
    let (s, b) = alpha
        .post("/v2.1/servers", on("b", &img, json!([{"port": given_id}])))
        .await;
    assert_eq!(s, 202, "{b}");
    let b_id = b["server"]["id"].as_str().unwrap().to_owned();
    for id in [&a, &b_id] {
        let (_, v) = until(&alpha, id, |_, b| status(b) != "BUILD").await;
        assert_eq!(status(&v), "ACTIVE", "{v}");
        let addrs = v["server"]["addresses"]["blue"].as_array().unwrap().clone();
        assert_eq!(addrs.len(), 1, "{v}");
        assert_eq!(addrs[0]["version"], 4);
        assert!(
            addrs[0]["addr"].as_str().unwrap().starts_with("10.9.0."),
            "{v}"
        );
        // The port is the server's, bound to its node.
        let (_, ports) = admin_net.get(&format!("/v2.0/ports?device_id={id}")).await;
        let p = &ports["ports"][0];
        assert_eq!(
            (
                p["binding:host_id"].as_str(),
                p["device_owner"].as_str(),
                p["mac_address"].clone()
            ),
            (
                Some(node.as_str()),
                Some("compute:nova"),
                addrs[0]["OS-EXT-IPS-MAC:mac_addr"].clone()
            ),
            "{ports}"
        );
    }
    let (_, ports) = net.get(&format!("/v2.0/ports?device_id={a}")).await;
    let made = ports["ports"][0]["id"].as_str().unwrap().to_owned();

    // Security groups asked by name: the made port has them, the server
    // shows them; one the project has not is named.
    let web = net.create("security_group", json!({"name": "web"})).await;
    let mut asked = on("sg", &img, json!([{"uuid": nid}]));
    asked["server"]["security_groups"] = json!([{"name": "web"}]);
    let (s, v) = alpha.post("/v2.1/servers", asked.clone()).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(
        v["server"]["security_groups"],
        json!([{"name": "web"}]),
        "{v}"
    );
    let sg = v["server"]["id"].as_str().unwrap().to_owned();
    let (_, v) = until(&alpha, &sg, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&v), "ACTIVE", "{v}");
    let (_, ports) = net.get(&format!("/v2.0/ports?device_id={sg}")).await;
    assert_eq!(
        ports["ports"][0]["security_groups"],
        json!([web["id"]]),
        "{ports}"
    );
    asked["server"]["security_groups"] = json!([{"name": "nosuch"}]);
    let (s, e) = alpha.post("/v2.1/servers", asked).await;
    assert_eq!(s, 400, "{e}");
    assert!(
        message(&e).starts_with("Security group nosuch not found for project"),
        "{e}"
    );
    assert_eq!(alpha.delete(&format!("/v2.1/servers/{sg}")).await.0, 204);
    until(&alpha, &sg, |s, _| s == 404).await;

    // None asked: the project's one network (Nova 2.1); with a second
    // one it is ambiguous.
    let (s, v) = alpha.post("/v2.1/servers", server("d", &img, "1")).await;
    assert_eq!(s, 202, "{v}");
    let d = v["server"]["id"].as_str().unwrap().to_owned();
    let (_, v) = until(&alpha, &d, |_, b| status(b) != "BUILD").await;
    assert_eq!(
        v["server"]["addresses"]["blue"].as_array().map(Vec::len),
        Some(1),
        "{v}"
    );
    net.create("network", json!({"name": "green"})).await;
    let (s, e) = alpha.post("/v2.1/servers", server("e", &img, "1")).await;
    assert_eq!(
        (s, message(&e).as_str()),
        (
            409,
            "Multiple possible networks found, use a Network ID to be more specific."
        )
    );
    assert_eq!(alpha.delete(&format!("/v2.1/servers/{d}")).await.0, 204);
    until(&alpha, &d, |s, _| s == 404).await;

    // Bad networks and ports, each named.
    let missing = "00000000-0000-4000-8000-000000000009";
    for (who, body, want) in [
        (&alpha, on("x", &img, json!([{"uuid": missing}])), (400, format!("Network {missing} could not be found."))),
        (&beta, on("x", &img, json!([{"uuid": nid}])), (400, format!("Network {nid} could not be found."))),
        (&alpha, on("x", &img, json!([{"port": missing}])), (400, format!("Port id {missing} could not be found."))),
        (&alpha, on("x", &img, json!([{"port": given_id}])), (409, format!("Port {given_id} is still in use."))),
        (&alpha, on("x", &img, json!([{"uuid": nid, "fixed_ip": "10.9.0.300"}])),
            (400, "Invalid input for field/attribute fixed_ip. Value: 10.9.0.300. '10.9.0.300' is not a 'ip-address'".to_owned())),
    ] {
        let (s, e) = who.post("/v2.1/servers", body).await;
        assert_eq!((s, message(&e)), want);
    }
    // The network service refuses an address outside the subnet: the build fails with its words, and gives back what it took.
    let (s, b) = alpha
        .post(
            "/v2.1/servers",
            on("c", &img, json!([{"uuid": nid, "fixed_ip": "10.8.0.5"}])),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let c = b["server"]["id"].as_str().unwrap().to_owned();
    let (_, v) = until(&alpha, &c, |_, b| status(b) != "BUILD").await;
    assert_eq!(status(&v), "ERROR", "{v}");
    let fault = v["server"]["fault"]["message"].as_str().unwrap();
    assert!(
        fault.starts_with(&format!("Build of instance {c} aborted: ")),
        "{fault}"
    );
    assert_eq!(allocations(cloud, &admin.token, &c).await, json!({}));

    // Delete: the made port goes, the given one stays, unbound.
    for id in [&a, &b_id, &c] {
        assert_eq!(alpha.delete(&format!("/v2.1/servers/{id}")).await.0, 204);
    }
    for id in [&a, &b_id, &c] {
        until(&alpha, id, |s, _| s == 404).await;
    }
    assert_eq!(net.get(&format!("/v2.0/ports/{made}")).await.0, 404);
    let (s, p) = admin_net.get(&format!("/v2.0/ports/{given_id}")).await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            p["port"]["device_id"].as_str(),
            p["port"]["binding:host_id"].as_str()
        ),
        (Some(""), Some("")),
        "{p}"
    );
    agent.stop().await;
}
