//! The scheduler's Placement API with identity's real tokens: microversion
//! negotiation, resource providers, their inventories (generation-checked,
//! one of two concurrent writers wins) and aggregates, custom resource
//! classes, and the 400s, 404s and 409s a careful client meets.

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::Cloud;

/// The newest Placement microversion the scheduler speaks.
const MAX: &str = "1.39";

crate::on_both_backends!(providers, inventories, resource_classes, allocations, trees);

/// Calls placement as `token` at microversion `v`.
pub(crate) async fn placement(
    cloud: &Cloud,
    token: &str,
    v: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", cloud.url("scheduler")))
        .header("X-Auth-Token", token)
        .header("OpenStack-API-Version", format!("placement {v}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    )
}

async fn providers(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let call = |v: &'static str, m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move { placement(cloud, &admin, v, m, &p, b).await }
    };

    // Negotiation: the range, the version served, out of range, malformed.
    let (s, root, h) = call("1.3", Method::GET, "/".into(), None).await;
    assert_eq!(s, 200);
    assert_eq!(root["versions"][0]["max_version"], MAX);
    assert_eq!(h["openstack-api-version"], "placement 1.3");
    assert_eq!(h["vary"], "openstack-api-version");
    let (s, err, _) = call("1.99", Method::GET, "/resource_providers".into(), None).await;
    assert_eq!(s, 406, "{err}");
    assert_eq!(err["errors"][0]["status"], 406);
    assert_eq!(
        err["errors"][0]["max_version"], MAX,
        "clients fall back to it"
    );
    assert_eq!(err["errors"][0]["min_version"], "1.0");
    assert_eq!(
        call("one", Method::GET, "/resource_providers".into(), None)
            .await
            .0,
        400
    );

    // Only admins and services.
    let member = super::image::member(cloud, &admin, "alpha").await.0;
    let (s, _, _) = placement(
        cloud,
        &member.token,
        "1.0",
        Method::GET,
        "/resource_providers",
        None,
    )
    .await;
    assert_eq!(s, 403);

    let uuid = "8d9a3bfc-2a3a-4d5e-9e5b-0c1f2d3e4f50";
    let (s, _, h) = call(
        "1.0",
        Method::POST,
        "/resource_providers".into(),
        Some(json!({"name": "edge-1-node-1", "uuid": uuid})),
    )
    .await;
    assert_eq!(s, 201);
    assert!(
        h["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("/resource_providers/{uuid}"))
    );
    let (s, err, _) = call(
        "1.0",
        Method::POST,
        "/resource_providers".into(),
        Some(json!({"name": "edge-1-node-1"})),
    )
    .await;
    assert_eq!(s, 409, "{err}");
    assert!(
        err["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("name"),
        "{err}"
    );
    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "x", "uuid": "nope"}),
        json!({"name": "x", "colour": "red"}),
    ] {
        assert_eq!(
            call(
                "1.0",
                Method::POST,
                "/resource_providers".into(),
                Some(bad.clone())
            )
            .await
            .0,
            400,
            "{bad}"
        );
    }
    let (s, second, _) = call(
        "1.0",
        Method::POST,
        "/resource_providers".into(),
        Some(json!({"name": "edge-2-node-1"})),
    )
    .await;
    assert_eq!((s, second), (201, Value::Null));

    let (s, p, _) = call(
        "1.0",
        Method::GET,
        format!("/resource_providers/{uuid}"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (p["name"].as_str(), p["generation"].as_i64()),
        (Some("edge-1-node-1"), Some(0))
    );
    let rels = |p: &Value| {
        p["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["rel"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(rels(&p), ["self", "inventories", "usages"]);
    let (_, p, _) = call(
        "1.1",
        Method::GET,
        format!("/resource_providers/{uuid}"),
        None,
    )
    .await;
    assert_eq!(
        rels(&p),
        ["self", "inventories", "usages", "aggregates"],
        "1.1 links aggregates"
    );

    let (s, p, _) = call(
        "1.0",
        Method::PUT,
        format!("/resource_providers/{uuid}"),
        Some(json!({"name": "edge-1-n1"})),
    )
    .await;
    assert_eq!((s, p["name"].as_str()), (200, Some("edge-1-n1")));
    let (s, list, _) = call(
        "1.0",
        Method::GET,
        "/resource_providers?name=edge-1-n1".into(),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(list["resource_providers"].as_array().unwrap().len(), 1);
    assert_eq!(
        call(
            "1.0",
            Method::GET,
            "/resource_providers?colour=red".into(),
            None
        )
        .await
        .0,
        400
    );

    // Aggregates and member_of.
    let agg = "a1b2c3d4-0000-4000-8000-000000000001";
    assert_eq!(
        call(
            "1.0",
            Method::GET,
            format!("/resource_providers/{uuid}/aggregates"),
            None
        )
        .await
        .0,
        404,
        "1.1 and later"
    );
    let (s, a, _) = call(
        "1.1",
        Method::PUT,
        format!("/resource_providers/{uuid}/aggregates"),
        Some(json!([agg])),
    )
    .await;
    assert_eq!((s, a), (200, json!({"aggregates": [agg]})));
    assert_eq!(
        call(
            "1.1",
            Method::PUT,
            format!("/resource_providers/{uuid}/aggregates"),
            Some(json!(["x"]))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(
            "1.2",
            Method::GET,
            format!("/resource_providers?member_of={agg}"),
            None
        )
        .await
        .0,
        400,
        "member_of is 1.3"
    );
    let (_, list, _) = call(
        "1.3",
        Method::GET,
        format!("/resource_providers?member_of=in:{agg}"),
        None,
    )
    .await;
    let names: Vec<&str> = list["resource_providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["edge-1-n1"]);

    assert_eq!(
        call(
            "1.0",
            Method::DELETE,
            format!("/resource_providers/{uuid}"),
            None
        )
        .await
        .0,
        204
    );
    let (s, err, _) = call(
        "1.0",
        Method::GET,
        format!("/resource_providers/{uuid}"),
        None,
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(err["errors"][0]["title"], "Not Found");
}

async fn inventories(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let uuid = "5b0c0f0e-1111-4a2b-8c3d-4e5f60718293";
    let path = format!("/resource_providers/{uuid}/inventories");
    let call = |m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move { placement(cloud, &admin, "1.3", m, &p, b).await }
    };
    call(
        Method::POST,
        "/resource_providers".into(),
        Some(json!({"name": "gpu-box", "uuid": uuid})),
    )
    .await;

    let set = json!({"resource_provider_generation": 0, "inventories": {
        "VCPU": {"total": 64, "allocation_ratio": 4.0},
        "MEMORY_MB": {"total": 262144, "reserved": 4096, "max_unit": 131072},
        "PGPU": {"total": 2}}});
    let (s, inv, _) = call(Method::PUT, path.clone(), Some(set.clone())).await;
    assert_eq!(s, 200, "{inv}");
    assert_eq!(inv["resource_provider_generation"], 1);
    assert_eq!(
        inv["inventories"]["VCPU"],
        json!({"total": 64, "reserved": 0, "min_unit": 1,
        "max_unit": 2147483647, "step_size": 1, "allocation_ratio": 4.0})
    );
    let (s, err, _) = call(Method::PUT, path.clone(), Some(set)).await;
    assert_eq!(s, 409, "a stale generation: {err}");

    // Two writers who saw the same generation: exactly one wins.
    let change = |total: i64| json!({"resource_provider_generation": 1, "inventories": {"VCPU": {"total": total}}});
    let (a, b) = tokio::join!(
        call(Method::PUT, path.clone(), Some(change(8))),
        call(Method::PUT, path.clone(), Some(change(16)))
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [200, 409]);
    let (_, now, _) = call(Method::GET, path.clone(), None).await;
    assert_eq!(now["resource_provider_generation"], 2);
    let winner = if a.0 == 200 { 8 } else { 16 };
    assert_eq!(now["inventories"]["VCPU"]["total"], winner);

    // One class at a time.
    let (s, one, h) = call(
        Method::POST,
        path.clone(),
        Some(json!({"resource_class": "DISK_GB", "total": 500})),
    )
    .await;
    assert_eq!(s, 201, "{one}");
    assert!(
        h["location"]
            .to_str()
            .unwrap()
            .ends_with("/inventories/DISK_GB")
    );
    assert_eq!(one["resource_provider_generation"], 3);
    assert_eq!(
        call(
            Method::POST,
            path.clone(),
            Some(json!({"resource_class": "DISK_GB", "total": 1}))
        )
        .await
        .0,
        409
    );
    let (s, one, _) = call(
        Method::PUT,
        format!("{path}/DISK_GB"),
        Some(json!({"resource_provider_generation": 3, "total": 800})),
    )
    .await;
    assert_eq!((s, one["total"].as_i64()), (200, Some(800)));
    let (s, one, _) = call(Method::GET, format!("{path}/DISK_GB"), None).await;
    assert_eq!(
        (s, one["resource_provider_generation"].as_i64()),
        (200, Some(4))
    );
    assert_eq!(
        call(Method::DELETE, format!("{path}/DISK_GB"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        call(Method::GET, format!("{path}/DISK_GB"), None).await.0,
        404
    );

    // Bad input: each a 400 naming what is wrong, and nothing changes.
    let cases = [
        (
            json!({"resource_provider_generation": 5, "inventories": {"VCPU": {"total": 0}}}),
            "minimum",
        ),
        (
            json!({"resource_provider_generation": 5, "inventories": {"VCPU": {"total": -4}}}),
            "minimum",
        ),
        (
            json!({"resource_provider_generation": 5, "inventories": {"VCPU": {"total": 4, "reserved": 5}}}),
            "reserved",
        ),
        (
            json!({"resource_provider_generation": 5, "inventories": {"VCPU": {"total": 4, "min_unit": 3, "max_unit": 2}}}),
            "min_unit",
        ),
        (
            json!({"resource_provider_generation": 5, "inventories": {"VCPU": {"total": 4, "allocation_ratio": 0}}}),
            "allocation_ratio",
        ),
        (
            json!({"resource_provider_generation": 5, "inventories": {"VCPU": {"total": 4, "colour": 1}}}),
            "colour",
        ),
        (
            json!({"resource_provider_generation": 5, "inventories": {"CUSTOM_NOPE": {"total": 4}}}),
            "CUSTOM_NOPE",
        ),
        (json!({"inventories": {}}), "resource_provider_generation"),
    ];
    for (body, why) in cases {
        let (s, err, _) = call(Method::PUT, path.clone(), Some(body)).await;
        assert_eq!(s, 400, "{why}: {err}");
        assert!(
            err["errors"][0]["detail"].as_str().unwrap().contains(why),
            "{why}: {err}"
        );
    }
    let (_, after, _) = call(Method::GET, path.clone(), None).await;
    assert_eq!(after["resource_provider_generation"], 5);
    assert_eq!(
        call(
            Method::GET,
            "/resource_providers/00000000-0000-4000-8000-000000000000/inventories".into(),
            None
        )
        .await
        .0,
        404
    );
}

async fn resource_classes(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let call = |v: &'static str, m: Method, p: &'static str, b: Option<Value>| {
        let admin = admin.clone();
        async move { placement(cloud, &admin, v, m, p, b).await }
    };
    assert_eq!(
        call("1.1", Method::GET, "/resource_classes", None).await.0,
        404,
        "1.2 and later"
    );
    let (s, all, _) = call("1.2", Method::GET, "/resource_classes", None).await;
    assert_eq!(s, 200);
    let names: Vec<&str> = all["resource_classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for std in [
        "VCPU",
        "MEMORY_MB",
        "DISK_GB",
        "PCPU",
        "VGPU",
        "PGPU",
        "FPGA",
        "SRIOV_NET_VF",
    ] {
        assert!(names.contains(&std), "{std}");
    }
    let (s, _, h) = call(
        "1.2",
        Method::POST,
        "/resource_classes",
        Some(json!({"name": "CUSTOM_NPU"})),
    )
    .await;
    assert_eq!(s, 201);
    assert!(
        h["location"]
            .to_str()
            .unwrap()
            .ends_with("/resource_classes/CUSTOM_NPU")
    );
    assert_eq!(
        call(
            "1.2",
            Method::POST,
            "/resource_classes",
            Some(json!({"name": "CUSTOM_NPU"}))
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            "1.2",
            Method::POST,
            "/resource_classes",
            Some(json!({"name": "NPU"}))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(
            "1.2",
            Method::POST,
            "/resource_classes",
            Some(json!({"name": "CUSTOM_npu"}))
        )
        .await
        .0,
        400
    );
    let (s, c, _) = call("1.2", Method::GET, "/resource_classes/CUSTOM_NPU", None).await;
    assert_eq!((s, c["name"].as_str()), (200, Some("CUSTOM_NPU")));

    // In use by an inventory: 409; a standard class: 400; then it goes.
    let uuid = "77777777-2222-4a2b-8c3d-4e5f60718293";
    call(
        "1.2",
        Method::POST,
        "/resource_providers",
        Some(json!({"name": "npu-gw", "uuid": uuid})),
    )
    .await;
    let inv =
        json!({"resource_provider_generation": 0, "inventories": {"CUSTOM_NPU": {"total": 4}}});
    let admin2 = admin.clone();
    let (s, _, _) = placement(
        cloud,
        &admin2,
        "1.2",
        Method::PUT,
        &format!("/resource_providers/{uuid}/inventories"),
        Some(inv),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        call("1.2", Method::DELETE, "/resource_classes/CUSTOM_NPU", None)
            .await
            .0,
        409
    );
    assert_eq!(
        call("1.2", Method::DELETE, "/resource_classes/VCPU", None)
            .await
            .0,
        400
    );
    let none = json!({"resource_provider_generation": 1, "inventories": {}});
    placement(
        cloud,
        &admin2,
        "1.2",
        Method::PUT,
        &format!("/resource_providers/{uuid}/inventories"),
        Some(none),
    )
    .await;
    assert_eq!(
        call("1.2", Method::DELETE, "/resource_classes/CUSTOM_NPU", None)
            .await
            .0,
        204
    );
    assert_eq!(
        call("1.2", Method::GET, "/resource_classes/CUSTOM_NPU", None)
            .await
            .0,
        404
    );

    rename_resource_class(cloud, &admin, uuid).await;

    // 1.7: PUT makes sure a custom class exists.
    let put = |v: &'static str, p: &'static str| call(v, Method::PUT, p, None);
    assert_eq!(
        put("1.6", "/resource_classes/CUSTOM_TPU").await.0,
        415,
        "a rename before 1.7, which needs a body"
    );
    let (s, _, h) = put("1.7", "/resource_classes/CUSTOM_TPU").await;
    assert_eq!(s, 201);
    assert!(
        h["location"]
            .to_str()
            .unwrap()
            .ends_with("/resource_classes/CUSTOM_TPU")
    );
    assert_eq!(put("1.7", "/resource_classes/CUSTOM_TPU").await.0, 204);
    assert_eq!(
        put("1.7", "/resource_classes/VCPU").await.0,
        400,
        "not CUSTOM_"
    );
    assert_eq!(put("1.7", "/resource_classes/CUSTOM_lower").await.0, 400);
}

/// 1.2 to 1.6: PUT with `{"name"}` renames a custom class; inventories
/// and allocations follow it.
async fn rename_resource_class(cloud: &Cloud, admin: &str, rp: &str) {
    let call = |v: &'static str, m: Method, p: String, b: Option<Value>| async move {
        let (s, body, _) = placement(cloud, admin, v, m, &p, b).await;
        (s, body)
    };
    let create = |n: &'static str| {
        call(
            "1.2",
            Method::POST,
            "/resource_classes".into(),
            Some(json!({"name": n})),
        )
    };
    assert_eq!(create("CUSTOM_OLD").await.0, 201);
    assert_eq!(create("CUSTOM_TAKEN").await.0, 201);
    let (_, p) = call(
        "1.14",
        Method::GET,
        format!("/resource_providers/{rp}"),
        None,
    )
    .await;
    let inv = json!({"resource_provider_generation": p["generation"],
        "inventories": {"CUSTOM_OLD": {"total": 4}}});
    let invs = format!("/resource_providers/{rp}/inventories");
    assert_eq!(
        call("1.2", Method::PUT, invs.clone(), Some(inv)).await.0,
        200
    );
    let consumer = "77777777-3333-4a2b-8c3d-4e5f60718293";
    let alloc = json!({"allocations": {rp: {"resources": {"CUSTOM_OLD": 3}}},
        "project_id": "p1", "user_id": "u1"});
    let allocs = format!("/allocations/{consumer}");
    assert_eq!(
        call("1.12", Method::PUT, allocs.clone(), Some(alloc))
            .await
            .0,
        204
    );

    let rename = |from: &'static str, to: Value| {
        call(
            "1.6",
            Method::PUT,
            format!("/resource_classes/{from}"),
            Some(to),
        )
    };
    let (s, e) = rename("VCPU", json!({"name": "CUSTOM_VCPU"})).await;
    assert_eq!(s, 400);
    assert!(
        e.to_string()
            .contains("Cannot update standard resource class VCPU"),
        "{e}"
    );
    assert_eq!(
        rename("CUSTOM_NOPE", json!({"name": "CUSTOM_X"})).await.0,
        404
    );
    let (s, e) = rename("CUSTOM_OLD", json!({"name": "CUSTOM_TAKEN"})).await;
    assert_eq!(s, 409);
    assert!(
        e.to_string()
            .contains("Resource class already exists: CUSTOM_TAKEN"),
        "{e}"
    );
    assert_eq!(
        rename("CUSTOM_OLD", json!({"name": "VCPU"})).await.0,
        400,
        "not CUSTOM_"
    );
    assert_eq!(
        rename("CUSTOM_OLD", json!({"name": "CUSTOM_NEW", "x": 1}))
            .await
            .0,
        400,
        "unknown key"
    );
    let (s, e) = call(
        "1.6",
        Method::PUT,
        "/resource_classes/CUSTOM_OLD".into(),
        None,
    )
    .await;
    assert_eq!(s, 415, "{e}");
    // The refusals changed nothing.
    let (_, i) = call("1.2", Method::GET, invs.clone(), None).await;
    assert_eq!(i["inventories"]["CUSTOM_OLD"]["total"], 4);

    let (s, c) = rename("CUSTOM_OLD", json!({"name": "CUSTOM_NEW"})).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["name"], "CUSTOM_NEW");
    assert_eq!(c["links"][0]["href"], "/resource_classes/CUSTOM_NEW");
    let get = |n: &'static str| call("1.2", Method::GET, format!("/resource_classes/{n}"), None);
    assert_eq!(get("CUSTOM_OLD").await.0, 404);
    assert_eq!(get("CUSTOM_NEW").await.0, 200);
    let (_, i) = call("1.2", Method::GET, invs.clone(), None).await;
    assert_eq!(i["inventories"]["CUSTOM_NEW"]["total"], 4, "{i}");
    assert!(i["inventories"].get("CUSTOM_OLD").is_none());
    let (_, a) = call("1.12", Method::GET, allocs.clone(), None).await;
    assert_eq!(a["allocations"][rp]["resources"], json!({"CUSTOM_NEW": 3}));
    let (_, u) = call(
        "1.2",
        Method::GET,
        format!("/resource_providers/{rp}/usages"),
        None,
    )
    .await;
    assert_eq!(u["usages"]["CUSTOM_NEW"], 3, "{u}");
    // What was allocated still counts: only 1 of 4 is left.
    let (_, c) = call(
        "1.10",
        Method::GET,
        "/allocation_candidates?resources=CUSTOM_NEW:2".into(),
        None,
    )
    .await;
    assert_eq!(c["allocation_requests"], json!([]), "{c}");

    assert_eq!(call("1.2", Method::DELETE, allocs, None).await.0, 204);
    let (_, p) = call(
        "1.14",
        Method::GET,
        format!("/resource_providers/{rp}"),
        None,
    )
    .await;
    let none = json!({"resource_provider_generation": p["generation"], "inventories": {}});
    assert_eq!(call("1.2", Method::PUT, invs, Some(none)).await.0, 200);
    for n in ["CUSTOM_NEW", "CUSTOM_TAKEN"] {
        let path = format!("/resource_classes/{n}");
        assert_eq!(call("1.2", Method::DELETE, path, None).await.0, 204);
    }
}

/// Nested providers (1.14): a site, its node and the node's GPU in one
/// tree; `in_tree`; a root adopted by a parent; no loops, no re-parenting.
async fn trees(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let call = |m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move {
            let (s, body, _) = placement(cloud, &admin, "1.14", m, &p, b).await;
            (s, body)
        }
    };
    let create = |name: &str, uuid: &str, parent: Option<&str>| {
        let mut b = json!({"name": name, "uuid": uuid});
        if let Some(p) = parent {
            b["parent_provider_uuid"] = json!(p);
        }
        call(Method::POST, "/resource_providers".into(), Some(b))
    };
    let site = "51000000-0000-4000-8000-000000000000";
    let node = "51000000-0000-4000-8000-000000000001";
    let gpu = "51000000-0000-4000-8000-000000000002";
    let other = "52000000-0000-4000-8000-000000000000";
    let lone = "53000000-0000-4000-8000-000000000000";
    assert_eq!(create("site-1", site, None).await.0, 201);
    assert_eq!(create("site-1-node-1", node, Some(site)).await.0, 201);
    assert_eq!(create("site-1-node-1-gpu-0", gpu, Some(node)).await.0, 201);
    assert_eq!(create("site-2", other, None).await.0, 201);
    let (s, err) = create("orphan", lone, Some("59000000-0000-4000-8000-000000000000")).await;
    assert_eq!(s, 400, "no such parent: {err}");

    let (_, g) = call(Method::GET, format!("/resource_providers/{gpu}"), None).await;
    assert_eq!(g["parent_provider_uuid"], node);
    assert_eq!(g["root_provider_uuid"], site);
    let (_, old, _) = placement(
        cloud,
        &admin,
        "1.13",
        Method::GET,
        &format!("/resource_providers/{gpu}"),
        None,
    )
    .await;
    assert!(old.get("root_provider_uuid").is_none(), "only from 1.14");

    let in_tree = |u: &str| {
        call(
            Method::GET,
            format!("/resource_providers?in_tree={u}"),
            None,
        )
    };
    let names = |v: Value| -> Vec<String> {
        v["resource_providers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(in_tree(gpu).await.1),
        ["site-1", "site-1-node-1", "site-1-node-1-gpu-0"]
    );
    assert_eq!(names(in_tree(other).await.1), ["site-2"]);
    assert!(names(in_tree("59000000-0000-4000-8000-000000000000").await.1).is_empty());
    assert_eq!(in_tree("nope").await.0, 400);
    let (s, _, _) = placement(
        cloud,
        &admin,
        "1.13",
        Method::GET,
        &format!("/resource_providers?in_tree={gpu}"),
        None,
    )
    .await;
    assert_eq!(s, 400, "in_tree is 1.14");

    // No loops, no re-parenting, no un-parenting.
    let update = |u: &str, name: &str, parent: Value| {
        call(
            Method::PUT,
            format!("/resource_providers/{u}"),
            Some(json!({"name": name, "parent_provider_uuid": parent})),
        )
    };
    assert_eq!(update(site, "site-1", json!(gpu)).await.0, 400, "a loop");
    assert_eq!(
        update(site, "site-1", json!(site)).await.0,
        400,
        "its own parent"
    );
    assert_eq!(
        update(node, "site-1-node-1", json!(other)).await.0,
        400,
        "re-parenting"
    );
    assert_eq!(
        update(node, "site-1-node-1", json!(null)).await.0,
        400,
        "un-parenting"
    );
    let (s, same) = update(node, "site-1-node-1", json!(site)).await;
    assert_eq!(s, 200, "the same parent is no change: {same}");

    // A site that was a root joins a region: its whole tree moves.
    let (s, moved) = update(site, "site-1", json!(other)).await;
    assert_eq!(s, 200, "{moved}");
    assert_eq!(moved["root_provider_uuid"], other);
    let (_, g) = call(Method::GET, format!("/resource_providers/{gpu}"), None).await;
    assert_eq!(g["root_provider_uuid"], other, "the grandchild follows");
    assert_eq!(names(in_tree(other).await.1).len(), 4);

    // 1.37: a provider moves to another parent in another tree, or
    // becomes a root, with its descendants; still no loops.
    let third = "54000000-0000-4000-8000-000000000000";
    assert_eq!(create("site-3", third, None).await.0, 201);
    let update37 = |u: &str, name: &str, parent: Value| {
        let admin = admin.clone();
        let (u, name) = (u.to_owned(), name.to_owned());
        async move {
            let body = json!({"name": name, "parent_provider_uuid": parent});
            let path = format!("/resource_providers/{u}");
            let (s, b, _) = placement(cloud, &admin, "1.37", Method::PUT, &path, Some(body)).await;
            (s, b)
        }
    };
    let (s, moved) = update37(node, "site-1-node-1", json!(third)).await;
    assert_eq!(s, 200, "{moved}");
    assert_eq!(moved["parent_provider_uuid"], third);
    assert_eq!(moved["root_provider_uuid"], third);
    let (_, g) = call(Method::GET, format!("/resource_providers/{gpu}"), None).await;
    assert_eq!(g["root_provider_uuid"], third, "the child follows");
    assert_eq!(names(in_tree(third).await.1).len(), 3);
    assert_eq!(
        names(in_tree(other).await.1).len(),
        2,
        "site-2 and site-1 stay"
    );
    let (s, e) = update37(third, "site-3", json!(gpu)).await;
    assert_eq!(s, 400, "a loop: {e}");
    assert!(e.to_string().contains("creating loop"), "{e}");
    let (s, e) = update37(node, "site-1-node-1", json!(node)).await;
    assert_eq!(s, 400, "its own parent: {e}");
    let (s, root) = update37(node, "site-1-node-1", json!(null)).await;
    assert_eq!(s, 200, "{root}");
    assert_eq!(root["parent_provider_uuid"], Value::Null);
    assert_eq!(root["root_provider_uuid"], node);
    let (_, g) = call(Method::GET, format!("/resource_providers/{gpu}"), None).await;
    assert_eq!(g["root_provider_uuid"], node);
    assert_eq!(names(in_tree(third).await.1), ["site-3"]);

    // A parent with children cannot go; leaves first.
    assert_eq!(
        call(Method::DELETE, format!("/resource_providers/{node}"), None)
            .await
            .0,
        409
    );
    for u in [gpu, node, site, other, third] {
        assert_eq!(
            call(Method::DELETE, format!("/resource_providers/{u}"), None)
                .await
                .0,
            204
        );
    }
}

async fn allocations(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let call = |v: &'static str, m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move { placement(cloud, &admin, v, m, &p, b).await }
    };
    let rp = "3c3c3c3c-1111-4a2b-8c3d-4e5f60718293";
    call(
        "1.5",
        Method::POST,
        "/resource_providers".into(),
        Some(json!({"name": "mec-1", "uuid": rp})),
    )
    .await;
    let inv = json!({"resource_provider_generation": 0, "inventories": {
        "VCPU": {"total": 4, "allocation_ratio": 2.0},
        "MEMORY_MB": {"total": 4096, "reserved": 1024, "max_unit": 2048, "step_size": 256}}});
    assert_eq!(
        call(
            "1.5",
            Method::PUT,
            format!("/resource_providers/{rp}/inventories"),
            Some(inv)
        )
        .await
        .0,
        200
    );
    let claim = |vcpu: i64, mem: i64| {
        let mut r = json!({"VCPU": vcpu});
        if mem > 0 {
            r["MEMORY_MB"] = json!(mem);
        }
        json!({"allocations": [{"resource_provider": {"uuid": rp}, "resources": r}]})
    };
    let c = |n: u32| format!("/allocations/00000000-0000-4000-8000-{n:012}");

    assert_eq!(
        call("1.5", Method::PUT, c(1), Some(claim(6, 1024))).await.0,
        204,
        "4 VCPU at ratio 2 holds 6"
    );
    let (_, u, _) = call(
        "1.5",
        Method::GET,
        format!("/resource_providers/{rp}/usages"),
        None,
    )
    .await;
    assert_eq!(u["usages"], json!({"VCPU": 6, "MEMORY_MB": 1024}));
    assert_eq!(
        u["resource_provider_generation"], 2,
        "a claim bumps the generation"
    );
    let (s, err, _) = call("1.5", Method::PUT, c(2), Some(claim(4, 0))).await;
    assert_eq!(s, 409, "{err}");
    assert!(
        err["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("capacity"),
        "{err}"
    );

    // The last two VCPUs, claimed twice at once: exactly one claim wins.
    let (a, b) = tokio::join!(
        call("1.5", Method::PUT, c(3), Some(claim(2, 0))),
        call("1.5", Method::PUT, c(4), Some(claim(2, 0)))
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [204, 409], "never over-committed");
    let (_, u, _) = call(
        "1.5",
        Method::GET,
        format!("/resource_providers/{rp}/usages"),
        None,
    )
    .await;
    assert_eq!(u["usages"]["VCPU"], 8);

    // Bad claims: a 4xx each, nothing held.
    let bad = [
        (claim(1, 2304), 409, "max_unit"),
        (claim(1, 300), 409, "step_size"),
        (
            json!({"allocations": [{"resource_provider": {"uuid": rp}, "resources": {"DISK_GB": 1}}]}),
            409,
            "DISK_GB",
        ),
        (
            json!({"allocations": [{"resource_provider": {"uuid": "99999999-1111-4a2b-8c3d-4e5f60718293"}, "resources": {"VCPU": 1}}]}),
            400,
            "does not exist",
        ),
        (
            json!({"allocations": [{"resource_provider": {"uuid": rp}, "resources": {"VCPU": 0}}]}),
            400,
            "minimum",
        ),
        (json!({"allocations": []}), 400, "too short"),
    ];
    for (body, code, why) in bad {
        let (s, err, _) = call("1.5", Method::PUT, c(9), Some(body)).await;
        assert_eq!(s, code, "{why}: {err}");
        assert!(
            err["errors"][0]["detail"].as_str().unwrap().contains(why),
            "{why}: {err}"
        );
    }
    assert_eq!(
        call(
            "1.5",
            Method::PUT,
            "/allocations/not-a-uuid".into(),
            Some(claim(1, 0))
        )
        .await
        .0,
        400
    );
    let (_, none, _) = call("1.5", Method::GET, c(9), None).await;
    assert_eq!(none, json!({"allocations": {}}));

    let (_, mine, _) = call("1.5", Method::GET, c(1), None).await;
    assert_eq!(
        mine["allocations"][rp]["resources"],
        json!({"VCPU": 6, "MEMORY_MB": 1024})
    );
    let (_, on_rp, _) = call(
        "1.5",
        Method::GET,
        format!("/resource_providers/{rp}/allocations"),
        None,
    )
    .await;
    assert_eq!(
        on_rp["allocations"].as_object().unwrap().len(),
        2,
        "{on_rp}"
    );

    // What is allocated cannot go: the inventory, the provider.
    assert_eq!(
        call(
            "1.5",
            Method::DELETE,
            format!("/resource_providers/{rp}/inventories/VCPU"),
            None
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            "1.5",
            Method::DELETE,
            format!("/resource_providers/{rp}/inventories"),
            None
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            "1.5",
            Method::DELETE,
            format!("/resource_providers/{rp}"),
            None
        )
        .await
        .0,
        409
    );

    // Room filters (1.4): after a resize of consumer 1 there is room for 4.
    assert_eq!(
        call("1.5", Method::PUT, c(1), Some(claim(2, 1024))).await.0,
        204
    );
    let names = |l: &Value| {
        l["resource_providers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (_, l, _) = call(
        "1.4",
        Method::GET,
        "/resource_providers?resources=VCPU:4,MEMORY_MB:512".into(),
        None,
    )
    .await;
    assert_eq!(names(&l), ["mec-1"]);
    let (_, l, _) = call(
        "1.4",
        Method::GET,
        "/resource_providers?resources=VCPU:5".into(),
        None,
    )
    .await;
    assert!(names(&l).is_empty());
    assert_eq!(
        call(
            "1.3",
            Method::GET,
            "/resource_providers?resources=VCPU:1".into(),
            None
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(
            "1.4",
            Method::GET,
            "/resource_providers?resources=VCPU".into(),
            None
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(
            "1.4",
            Method::GET,
            "/resource_providers?resources=CUSTOM_X:1".into(),
            None
        )
        .await
        .0,
        400
    );

    // Giving back.
    for n in [1, 3, 4] {
        let s = call("1.5", Method::DELETE, c(n), None).await.0;
        assert!(s == 204 || s == 404, "{n}: {s}");
    }
    assert_eq!(call("1.5", Method::DELETE, c(1), None).await.0, 404);
    let (_, u, _) = call(
        "1.5",
        Method::GET,
        format!("/resource_providers/{rp}/usages"),
        None,
    )
    .await;
    assert_eq!(u["usages"], json!({"VCPU": 0, "MEMORY_MB": 0}));
    assert_eq!(
        call(
            "1.4",
            Method::DELETE,
            format!("/resource_providers/{rp}/inventories"),
            None
        )
        .await
        .0,
        404,
        "1.5 and later"
    );
    assert_eq!(
        call(
            "1.5",
            Method::DELETE,
            format!("/resource_providers/{rp}/inventories"),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        call(
            "1.5",
            Method::DELETE,
            format!("/resource_providers/{rp}"),
            None
        )
        .await
        .0,
        204
    );
}
