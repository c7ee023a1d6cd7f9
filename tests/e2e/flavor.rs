//! The compute service's flavors, as Nova serves them: microversion
//! negotiation, admin-only management, Nova's input checks and messages,
//! listing (brief, detail, filters, sorting, pages), private flavors
//! shared with projects, and extra specs.

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::Cloud;

use crate::nova::{Nova, callers, message};

crate::on_both_backends!(microversions, flavors, flavor_access, extra_specs);

/// `GET /v2.1/flavors` with one version header.
async fn flavors_with(
    nova: &Nova<'_>,
    header: &str,
    value: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    nova.call(Method::GET, "/v2.1/flavors", None, &[(header, value)])
        .await
}

async fn microversions(cloud: &Cloud) {
    let (admin, ..) = callers(cloud).await;
    let (s, h, v) = admin.call(Method::GET, "/v2.1", None, &[]).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["version"]["id"], "v2.1");
    assert_eq!(h["openstack-api-version"], "compute 2.1");
    assert_eq!(h["x-openstack-nova-api-version"], "2.1");
    let (s, h, _) = flavors_with(&admin, "OpenStack-API-Version", "compute latest").await;
    assert_eq!(s, 200);
    assert_eq!(h["openstack-api-version"], "compute 2.25");
    let (_, v) = admin.get("/v2.1").await;
    assert_eq!(v["version"]["version"], "2.25", "the maximum: {v}");
    let (s, h, v) = flavors_with(&admin, "OpenStack-API-Version", "compute 2.999").await;
    assert_eq!(s, 406, "{v}");
    assert_eq!(
        v["computeFault"]["message"],
        "Version 2.999 is not supported by the API. Minimum is 2.1 and maximum is 2.25."
    );
    assert_eq!(h["x-openstack-nova-api-version"], "2.1");
    let (s, _, v) = flavors_with(&admin, "X-OpenStack-Nova-API-Version", "2.x").await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["badRequest"]["message"],
        "API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum."
    );
}

async fn flavors(cloud: &Cloud) {
    let (admin, alpha, ..) = callers(cloud).await;
    let (s, v) = admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": "m1.small", "ram": 2048, "vcpus": 1, "disk": 20, "id": "2"}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let f = &v["flavor"];
    assert_eq!(f["id"], "2");
    assert_eq!(
        (f["ram"].as_i64(), f["vcpus"].as_i64(), f["disk"].as_i64()),
        (Some(2048), Some(1), Some(20))
    );
    assert_eq!(
        f["swap"], "",
        "no swap is shown as an empty string before 2.75"
    );
    assert_eq!(f["OS-FLV-EXT-DATA:ephemeral"], 0);
    assert_eq!(f["OS-FLV-DISABLED:disabled"], false);
    assert_eq!(f["os-flavor-access:is_public"], true);
    assert_eq!(f["rxtx_factor"], 1.0);
    assert!(
        f["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with("/v2.1/flavors/2"),
        "{f}"
    );
    assert_eq!(f["links"][1]["rel"], "bookmark");
    // Numbers as digit strings, a generated id, swap and ephemeral.
    let (s, v) = admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": "m1.large", "ram": "8192", "vcpus": "4", "disk": 80,
                              "swap": 512, "OS-FLV-EXT-DATA:ephemeral": 10, "rxtx_factor": 2.5, "id": null}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let large = v["flavor"]["id"].as_str().unwrap().to_owned();
    assert_eq!(large.len(), 36, "a UUID: {large}");
    assert_eq!(v["flavor"]["swap"], 512);
    assert_eq!(v["flavor"]["ram"], 8192);
    admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": "tiny", "ram": 512, "vcpus": 1, "disk": 1, "id": "1"}}),
        )
        .await;

    // Taken names and ids; bad input; not an admin.
    let (s, v) = admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": "m1.small", "ram": 1, "vcpus": 1, "disk": 0}}),
        )
        .await;
    assert_eq!(
        (s, message(&v).as_str()),
        (409, "Flavor with name m1.small already exists.")
    );
    let (s, v) = admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": "other", "ram": 1, "vcpus": 1, "disk": 0, "id": "2"}}),
        )
        .await;
    assert_eq!(
        (s, message(&v).as_str()),
        (409, "Flavor with ID 2 already exists.")
    );
    for (body, says) in [
        (
            json!({"flavor": {"name": "x", "vcpus": 1, "disk": 0}}),
            "'ram' is a required property",
        ),
        (
            json!({"flavor": {"name": "x", "ram": 0, "vcpus": 1, "disk": 0}}),
            "0 is less than the minimum of 1",
        ),
        (
            json!({"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": -1}}),
            "-1 is less than the minimum of 0",
        ),
        (
            json!({"flavor": {"name": "x", "ram": "lots", "vcpus": 1, "disk": 0}}),
            "does not match",
        ),
        (
            json!({"flavor": {"name": " x", "ram": 1, "vcpus": 1, "disk": 0}}),
            "leading or trailing whitespace",
        ),
        (
            json!({"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "gpus": 1}}),
            "('gpus' was unexpected)",
        ),
        (
            json!({"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "id": "a/b"}}),
            "does not match",
        ),
        (
            json!({"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": 0}}),
            "rxtx_factor",
        ),
        (
            json!({"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": "maybe"}}),
            "is not a boolean",
        ),
    ] {
        let (s, v) = admin.post("/v2.1/flavors", body.clone()).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(message(&v).contains(says), "{body}: {v}");
    }
    let (s, v) = alpha
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": "mine", "ram": 1, "vcpus": 1, "disk": 0}}),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    assert!(v["forbidden"]["message"].is_string(), "{v}");

    // Lists: brief and detail, filters, sorting, pages.
    let (s, v) = alpha.get("/v2.1/flavors").await;
    assert_eq!(s, 200);
    let ids = |v: &Value| -> Vec<String> {
        v["flavors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut want = vec!["1".to_owned(), "2".to_owned(), large.clone()];
    want.sort();
    assert_eq!(ids(&v), want, "by flavorid");
    assert!(v["flavors"][0].get("ram").is_none(), "brief: {v}");
    let (_, v) = alpha.get("/v2.1/flavors/detail?minRam=2048").await;
    assert_eq!(ids(&v).len(), 2, "{v}");
    assert!(v["flavors"][0]["ram"].as_i64().unwrap() >= 2048);
    let (_, v) = alpha
        .get("/v2.1/flavors/detail?sort_key=memory_mb&sort_dir=desc")
        .await;
    assert_eq!(ids(&v), [large.clone(), "2".into(), "1".into()]);
    let (_, v) = alpha.get("/v2.1/flavors?sort_key=memory_mb&limit=2").await;
    assert_eq!(ids(&v), ["1", "2"]);
    let next = v["flavors_links"][0]["href"].as_str().unwrap().to_owned();
    assert!(
        next.contains("marker=2") && next.contains("limit=2"),
        "{next}"
    );
    let path = &next[next.find("/v2.1/").unwrap()..];
    let (_, v) = alpha.get(path).await;
    assert_eq!(ids(&v), std::slice::from_ref(&large));
    assert!(
        v.get("flavors_links").is_none(),
        "a short page is the last: {v}"
    );
    for (q, says) in [
        ("marker=nope", "marker [nope] not found"),
        ("sort_key=color", "Sort key supplied is invalid."),
        ("sort_dir=up", "Unknown sort direction"),
        ("limit=-1", "limit param must be positive"),
        ("minRam=big", "Invalid minRam filter [big]"),
    ] {
        let (s, v) = alpha.get(&format!("/v2.1/flavors?{q}")).await;
        assert_eq!(s, 400, "{q}: {v}");
        assert!(message(&v).contains(says), "{q}: {v}");
    }

    let (s, v) = alpha.get("/v2.1/flavors/2").await;
    assert_eq!((s, v["flavor"]["name"].as_str()), (200, Some("m1.small")));
    let (s, v) = alpha.get("/v2.1/flavors/nope").await;
    assert_eq!(
        (s, message(&v).as_str()),
        (404, "Flavor nope could not be found.")
    );
    assert!(v["itemNotFound"].is_object(), "{v}");
    assert_eq!(alpha.delete("/v2.1/flavors/2").await.0, 403);
    // The longest name and id fit (PostgreSQL checks column widths).
    let (long_name, long_id) = ("n".repeat(255), "i".repeat(255));
    let (s, v) = admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": long_name, "ram": 1, "vcpus": 1, "disk": 0, "id": long_id}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = admin
        .post(
            &format!("/v2.1/flavors/{long_id}/os-extra_specs"),
            json!({"extra_specs": {"k".repeat(255): "v".repeat(255)}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        admin.delete(&format!("/v2.1/flavors/{long_id}")).await.0,
        202
    );
    assert_eq!(admin.delete("/v2.1/flavors/2").await.0, 202);
    assert_eq!(alpha.get("/v2.1/flavors/2").await.0, 404);
    assert_eq!(admin.delete("/v2.1/flavors/2").await.0, 404);
}

async fn flavor_access(cloud: &Cloud) {
    let (admin, alpha, alpha_project, beta) = callers(cloud).await;
    let (s, v) = admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": "gpu.large", "ram": 4096, "vcpus": 8, "disk": 40,
                              "id": "gpu", "os-flavor-access:is_public": false}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["flavor"]["os-flavor-access:is_public"], false);
    admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": "pub", "ram": 1, "vcpus": 1, "disk": 0, "id": "pub"}}),
        )
        .await;
    let listed = |v: &Value| -> Vec<String> {
        v["flavors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Private: hidden from others, listed for admins on request.
    assert_eq!(listed(&alpha.get("/v2.1/flavors").await.1), ["pub"]);
    assert_eq!(alpha.get("/v2.1/flavors/gpu").await.0, 404);
    assert_eq!(
        listed(&admin.get("/v2.1/flavors").await.1),
        ["pub"],
        "admins see public ones by default"
    );
    assert_eq!(
        listed(&admin.get("/v2.1/flavors?is_public=none").await.1),
        ["gpu", "pub"]
    );
    assert_eq!(
        listed(&admin.get("/v2.1/flavors?is_public=false").await.1),
        ["gpu"]
    );
    assert_eq!(
        listed(&alpha.get("/v2.1/flavors?is_public=none").await.1),
        ["pub"],
        "only admins choose"
    );

    // Shared with alpha's project.
    let (s, v) = admin
        .post(
            "/v2.1/flavors/gpu/action",
            json!({"addTenantAccess": {"tenant": alpha_project}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"flavor_access": [{"flavor_id": "gpu", "tenant_id": alpha_project}]})
    );
    assert_eq!(listed(&alpha.get("/v2.1/flavors").await.1), ["gpu", "pub"]);
    assert_eq!(alpha.get("/v2.1/flavors/gpu").await.0, 200);
    assert_eq!(beta.get("/v2.1/flavors/gpu").await.0, 404);
    assert_eq!(listed(&beta.get("/v2.1/flavors").await.1), ["pub"]);
    let (s, v) = admin.get("/v2.1/flavors/gpu/os-flavor-access").await;
    assert_eq!(
        (s, v["flavor_access"][0]["tenant_id"].as_str()),
        (200, Some(alpha_project.as_str()))
    );
    assert_eq!(alpha.get("/v2.1/flavors/gpu/os-flavor-access").await.0, 403);

    // Refusals.
    let (s, v) = admin
        .post(
            "/v2.1/flavors/gpu/action",
            json!({"addTenantAccess": {"tenant": alpha_project}}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(
        message(&v),
        format!(
            "Flavor access already exists for flavor gpu and project {alpha_project} combination."
        )
    );
    let (s, v) = admin
        .post(
            "/v2.1/flavors/gpu/action",
            json!({"addTenantAccess": {"tenant": "no-such-project"}}),
        )
        .await;
    assert_eq!(
        (s, message(&v).as_str()),
        (400, "Project ID no-such-project is not a valid project.")
    );
    let (s, v) = admin
        .post(
            "/v2.1/flavors/pub/action",
            json!({"addTenantAccess": {"tenant": alpha_project}}),
        )
        .await;
    assert_eq!(
        (s, message(&v).as_str()),
        (409, "Can not add access to a public flavor.")
    );
    let (s, v) = admin.get("/v2.1/flavors/pub/os-flavor-access").await;
    assert_eq!(
        (s, message(&v).as_str()),
        (404, "Access list not available for public flavors.")
    );
    let (s, v) = admin
        .post("/v2.1/flavors/gpu/action", json!({"addTenantAccess": {}}))
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = admin
        .post("/v2.1/flavors/gpu/action", json!({"resize": {}}))
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = alpha
        .post(
            "/v2.1/flavors/gpu/action",
            json!({"removeTenantAccess": {"tenant": alpha_project}}),
        )
        .await;
    assert_eq!(s, 403);

    // Revoked: hidden again.
    let (s, v) = admin
        .post(
            "/v2.1/flavors/gpu/action",
            json!({"removeTenantAccess": {"tenant": alpha_project}}),
        )
        .await;
    assert_eq!((s, v), (200, json!({"flavor_access": []})));
    assert_eq!(alpha.get("/v2.1/flavors/gpu").await.0, 404);
    let (s, v) = admin
        .post(
            "/v2.1/flavors/gpu/action",
            json!({"removeTenantAccess": {"tenant": alpha_project}}),
        )
        .await;
    assert_eq!(s, 404, "{v}");
    assert_eq!(
        message(&v),
        format!("Flavor access not found for gpu / {alpha_project} combination.")
    );
}

async fn extra_specs(cloud: &Cloud) {
    let (admin, alpha, ..) = callers(cloud).await;
    admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": "acc", "ram": 1024, "vcpus": 2, "disk": 10, "id": "acc"}}),
        )
        .await;
    let (s, v) = admin
        .post(
            "/v2.1/flavors/acc/os-extra_specs",
            json!({"extra_specs": {"resources:VGPU": "1", "trait:HW_CPU_X86_AVX2": "required", "hw:numa_nodes": 1, "x:flag": true}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["extra_specs"]["hw:numa_nodes"], "1",
        "stored as strings: {v}"
    );
    assert_eq!(v["extra_specs"]["x:flag"], "True");
    let (s, v) = alpha.get("/v2.1/flavors/acc/os-extra_specs").await;
    assert_eq!(s, 200);
    assert_eq!(v["extra_specs"].as_object().unwrap().len(), 4, "{v}");
    let (s, v) = alpha
        .get("/v2.1/flavors/acc/os-extra_specs/resources:VGPU")
        .await;
    assert_eq!((s, v), (200, json!({"resources:VGPU": "1"})));
    let (s, v) = admin
        .put(
            "/v2.1/flavors/acc/os-extra_specs/resources:VGPU",
            json!({"resources:VGPU": "2"}),
        )
        .await;
    assert_eq!((s, v), (200, json!({"resources:VGPU": "2"})));
    let (s, v) = admin
        .put(
            "/v2.1/flavors/acc/os-extra_specs/resources:VGPU",
            json!({"resources:PGPU": "2"}),
        )
        .await;
    assert_eq!(
        (s, message(&v).as_str()),
        (400, "Request body and URI mismatch")
    );
    let (s, v) = admin
        .put(
            "/v2.1/flavors/acc/os-extra_specs/a",
            json!({"a": "1", "b": "2"}),
        )
        .await;
    assert_eq!(
        (s, message(&v).as_str()),
        (400, "Request body contains too many items")
    );
    let (s, v) = admin
        .post(
            "/v2.1/flavors/acc/os-extra_specs",
            json!({"extra_specs": {"bad key!": "1"}}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        alpha
            .post(
                "/v2.1/flavors/acc/os-extra_specs",
                json!({"extra_specs": {"a": "1"}})
            )
            .await
            .0,
        403
    );
    let (s, _) = admin
        .delete("/v2.1/flavors/acc/os-extra_specs/x:flag")
        .await;
    assert_eq!(s, 200);
    let (s, v) = alpha.get("/v2.1/flavors/acc/os-extra_specs/x:flag").await;
    assert_eq!(
        (s, message(&v).as_str()),
        (404, "Flavor acc has no extra specs with key x:flag.")
    );
    assert_eq!(
        admin
            .delete("/v2.1/flavors/acc/os-extra_specs/x:flag")
            .await
            .0,
        404
    );
    assert_eq!(alpha.get("/v2.1/flavors/nope/os-extra_specs").await.0, 404);
    // Extra specs go with their flavor.
    assert_eq!(admin.delete("/v2.1/flavors/acc").await.0, 202);
    admin
        .post(
            "/v2.1/flavors",
            json!({"flavor": {"name": "acc", "ram": 1024, "vcpus": 2, "disk": 10, "id": "acc"}}),
        )
        .await;
    let (_, v) = alpha.get("/v2.1/flavors/acc/os-extra_specs").await;
    assert_eq!(v, json!({"extra_specs": {}}));
}
