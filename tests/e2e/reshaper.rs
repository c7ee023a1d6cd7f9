//! The reshaper (`POST /reshaper`, 1.30): a node's VCPU inventory moves
//! to a new child provider together with the allocation on it, in one
//! transaction. Covers the version and role rules, the bad bodies, stale
//! provider and consumer generations, inventory still in use, a move that
//! does not fit (and leaves everything as it was), and the move itself.

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::Cloud;

use super::resource_provider::placement;

crate::on_both_backends!(reshaper);

const NODE: &str = "c1000000-0000-4000-8000-000000000001";
const CHILD: &str = "c1000000-0000-4000-8000-000000000002";
const VM: &str = "c2000000-0000-4000-8000-000000000001";
const NEW: &str = "c2000000-0000-4000-8000-000000000002";

async fn reshaper(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let call = |m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move {
            let (s, body, _) = placement(cloud, &admin, "1.31", m, &p, b).await;
            (s, body)
        }
    };
    let usages = async |p: &str| {
        let (_, b) = call(Method::GET, format!("/resource_providers/{p}/usages"), None).await;
        b["usages"].clone()
    };
    let generation = async |p: &str| {
        let (_, b) = call(Method::GET, format!("/resource_providers/{p}"), None).await;
        b["generation"].as_i64().unwrap()
    };
    let (s, _) = call(
        Method::POST,
        "/resource_providers".into(),
        Some(json!({"name": "node", "uuid": NODE})),
    )
    .await;
    assert_eq!(s, 200);
    let invs = json!({"resource_provider_generation": 0,
        "inventories": {"VCPU": {"total": 8}, "DISK_GB": {"total": 100}}});
    let (s, _) = call(
        Method::PUT,
        format!("/resource_providers/{NODE}/inventories"),
        Some(invs),
    )
    .await;
    assert_eq!(s, 200);
    let vm = json!({"allocations": {NODE: {"resources": {"VCPU": 2, "DISK_GB": 10}}},
        "project_id": "p", "user_id": "u", "consumer_generation": null});
    let (s, b) = call(Method::PUT, format!("/allocations/{VM}"), Some(vm)).await;
    assert_eq!(s, 204, "{b}");
    let (s, _) = call(
        Method::POST,
        "/resource_providers".into(),
        Some(json!({"name": "node-cpu", "uuid": CHILD, "parent_provider_uuid": NODE})),
    )
    .await;
    assert_eq!(s, 200);
    let g = generation(NODE).await;

    // The move: VCPU to the child, the VM's allocation with it.
    let reshape = |node_gen: i64, child_vcpu: i64, vm_gen: Value| {
        json!({
            "inventories": {
                NODE: {"resource_provider_generation": node_gen,
                       "inventories": {"DISK_GB": {"total": 100}}},
                CHILD: {"resource_provider_generation": 0,
                        "inventories": {"VCPU": {"total": child_vcpu}}},
            },
            "allocations": {
                VM: {"allocations": {NODE: {"resources": {"DISK_GB": 10}},
                                     CHILD: {"resources": {"VCPU": 2}}},
                     "project_id": "p", "user_id": "u", "consumer_generation": vm_gen},
            },
        })
    };
    let post = |v: &'static str, token: String, b: Value| async move {
        let (s, body, _) = placement(cloud, &token, v, Method::POST, "/reshaper", Some(b)).await;
        (s, body)
    };
    let (s, _) = post("1.29", admin.clone(), reshape(g, 8, json!(1))).await;
    assert_eq!(s, 404, "the reshaper is 1.30");
    let (member, _) = cloud
        .user_with_role(&admin, "reshaper-member", "member")
        .await;
    let (s, _) = post("1.30", member, reshape(g, 8, json!(1))).await;
    assert_eq!(s, 403, "admins and services only");

    let mut bad_inventory = reshape(g, 8, json!(1));
    bad_inventory["inventories"][CHILD]["inventories"]["VCPU"]["bad_field"] = json!("moo");
    let mut no_class = reshape(g, 8, json!(1));
    no_class["inventories"][CHILD]["inventories"] = json!({"DISK_OF_STEEL": {"total": 1}});
    let mut no_provider = reshape(g, 8, json!(1));
    no_provider["inventories"]["c1000000-0000-4000-8000-0000000000ff"] =
        json!({"resource_provider_generation": 0, "inventories": {}});
    for (bad, needle) in [
        (json!({"cows": "moo"}), "cows"),
        (
            json!({"inventories": reshape(g, 8, json!(1))["inventories"]}),
            "allocations",
        ),
        (bad_inventory, "bad_field"),
        (no_class, "DISK_OF_STEEL"),
        (no_provider, "c1000000-0000-4000-8000-0000000000ff"),
    ] {
        let (s, err) = post("1.30", admin.clone(), bad.clone()).await;
        assert_eq!(s, 400, "{bad}: {err}");
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }

    // Conflicts, none of which changes anything.
    let (s, err) = post("1.30", admin.clone(), reshape(g - 1, 8, json!(1))).await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(err["errors"][0]["code"], "placement.concurrent_update");
    assert!(
        err.to_string()
            .contains(&format!("actual: {g}, given: {}", g - 1)),
        "{err}"
    );
    let (s, err) = post("1.30", admin.clone(), reshape(g, 8, json!(7))).await;
    assert_eq!(s, 409);
    assert!(
        err.to_string().contains("consumer generation conflict"),
        "{err}"
    );
    let mut in_use = reshape(g, 8, json!(1));
    in_use["allocations"] = json!({});
    let (s, err) = post("1.30", admin.clone(), in_use).await;
    assert_eq!(s, 409);
    assert_eq!(
        err["errors"][0]["code"], "placement.inventory.inuse",
        "{err}"
    );
    let (s, err) = post("1.30", admin.clone(), reshape(g, 1, json!(1))).await;
    assert_eq!(s, 409, "2 VCPU do not fit in 1: {err}");
    assert!(
        err.to_string().contains("Unable to allocate inventory"),
        "{err}"
    );
    assert_eq!(generation(NODE).await, g, "nothing changed");
    assert_eq!(usages(NODE).await, json!({"VCPU": 2, "DISK_GB": 10}));

    // The move itself.
    let (s, err) = post("1.30", admin.clone(), reshape(g, 8, json!(1))).await;
    assert_eq!(s, 204, "{err}");
    assert_eq!(usages(NODE).await, json!({"DISK_GB": 10}));
    assert_eq!(usages(CHILD).await, json!({"VCPU": 2}));
    assert!(generation(NODE).await > g);
    let (_, a) = call(Method::GET, format!("/allocations/{VM}"), None).await;
    assert_eq!(a["consumer_generation"], 2, "{a}");
    assert_eq!(a["allocations"][CHILD]["resources"]["VCPU"], 2, "{a}");

    // A new consumer through the reshaper, and one consumer given up.
    let g = generation(NODE).await;
    let b = json!({
        "inventories": {NODE: {"resource_provider_generation": g,
                               "inventories": {"DISK_GB": {"total": 200}}}},
        "allocations": {
            NEW: {"allocations": {NODE: {"resources": {"DISK_GB": 50}}},
                  "project_id": "p", "user_id": "u", "consumer_generation": null},
            VM: {"allocations": {}, "project_id": "p", "user_id": "u", "consumer_generation": 2},
        },
    });
    let (s, err) = post("1.30", admin.clone(), b).await;
    assert_eq!(s, 204, "{err}");
    assert_eq!(usages(NODE).await, json!({"DISK_GB": 50}));
    assert_eq!(usages(CHILD).await, json!({"VCPU": 0}));
}
