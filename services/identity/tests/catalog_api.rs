//! `/v3/regions`, `/v3/services` and `/v3/endpoints` over HTTP: an edge
//! region under a central one, a service with an endpoint there that the
//! next token's catalog lists, Keystone's 400s, 409s and 403s.

#[macro_use]
mod common;

use serde_json::{Value, json};

use common::api::{Api, Reply};

api_on_both!(
    region_tree,
    service_and_endpoint_crud_reach_the_catalog,
    bad_requests_are_400,
    only_admin_changes_the_catalog,
);

fn message(r: &Reply) -> &str {
    r.body["error"]["message"].as_str().unwrap_or("")
}

fn ids(list: &Value) -> Vec<&str> {
    let mut v: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    v.sort();
    v
}

async fn region_tree(api: &Api) {
    let t = &api.admin_token;
    let r = api
        .post(
            "/v3/regions",
            t,
            json!({"region": {"id": "eu-central", "description": "Frankfurt"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["region"]["id"], "eu-central");
    assert_eq!(r.body["region"]["parent_region_id"], Value::Null);
    assert!(
        r.body["region"]["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with("/v3/regions/eu-central")
    );

    // An edge site under it, with its id in the path (Keystone's PUT).
    let r = api
        .call(
            reqwest::Method::PUT,
            "/v3/regions/edge-fra-1",
            Some(t),
            Some(json!({"region": {"parent_region_id": "eu-central"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["region"]["parent_region_id"], "eu-central");
    assert_eq!(r.body["region"]["description"], "", "never null");

    // No id: one is made up.
    let r = api
        .post(
            "/v3/regions",
            t,
            json!({"region": {"parent_region_id": "eu-central"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let made_up = r.body["region"]["id"].as_str().unwrap().to_string();
    assert_eq!(made_up.len(), 32);

    let r = api
        .post(
            "/v3/regions",
            t,
            json!({"region": {"id": "orphan", "parent_region_id": "nowhere"}}),
        )
        .await;
    assert_eq!(r.status, 400, "unknown parent: {}", r.body);
    let r = api
        .post("/v3/regions", t, json!({"region": {"id": "eu-central"}}))
        .await;
    assert_eq!(r.status, 409, "duplicate id: {}", r.body);
    let r = api
        .call(
            reqwest::Method::PUT,
            "/v3/regions/a",
            Some(t),
            Some(json!({"region": {"id": "b"}})),
        )
        .await;
    assert_eq!(r.status, 400, "conflicting ids: {}", r.body);

    let r = api.get("/v3/regions?parent_region_id=eu-central", t).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut want = vec!["edge-fra-1", made_up.as_str()];
    want.sort();
    assert_eq!(ids(&r.body["regions"]), want);
    let all = api.get("/v3/regions", t).await;
    assert_eq!(ids(&all.body["regions"]).len(), 4, "{}", all.body);

    // A cycle is refused.
    let r = api
        .patch(
            "/v3/regions/eu-central",
            t,
            json!({"region": {"parent_region_id": "edge-fra-1"}}),
        )
        .await;
    assert_eq!(r.status, 400, "cycle: {}", r.body);
    let r = api
        .patch(
            "/v3/regions/edge-fra-1",
            t,
            json!({"region": {"description": "Frankfurt edge 1"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["region"]["description"], "Frankfurt edge 1");
    assert_eq!(r.body["region"]["parent_region_id"], "eu-central");

    // A region with children cannot go; its leaves can, then it can.
    let r = api.delete("/v3/regions/eu-central", t).await;
    assert_eq!(r.status, 409, "with children: {}", r.body);
    for id in ["edge-fra-1", made_up.as_str()] {
        let r = api.delete(&format!("/v3/regions/{id}"), t).await;
        assert_eq!(r.status, 204, "{}", r.body);
    }
    assert_eq!(api.delete("/v3/regions/eu-central", t).await.status, 204);
    let r = api.get("/v3/regions/eu-central", t).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(message(&r).contains("eu-central"), "{}", r.body);
}

async fn service_and_endpoint_crud_reach_the_catalog(api: &Api) {
    let t = &api.admin_token;
    let r = api
        .call(
            reqwest::Method::PUT,
            "/v3/regions/edge-ber-1",
            Some(t),
            Some(json!({"region": {"parent_region_id": "RegionOne"}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let r = api
        .post(
            "/v3/services",
            t,
            json!({"service": {"type": "image", "name": "glance", "description": "Images"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = &r.body["service"];
    assert_eq!(s["type"], "image");
    assert_eq!(s["name"], "glance");
    assert_eq!(s["enabled"], true);
    let service_id = s["id"].as_str().unwrap().to_string();

    let r = api.get("/v3/services?type=image", t).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body["services"]), [service_id.as_str()]);
    let r = api
        .patch(
            &format!("/v3/services/{service_id}"),
            t,
            json!({"service": {"description": "Glance images"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["service"]["description"], "Glance images");
    assert_eq!(r.body["service"]["name"], "glance", "kept");

    // The deprecated `region` is accepted for `region_id`; both are shown.
    let r = api
        .post(
            "/v3/endpoints",
            t,
            json!({"endpoint": {"interface": "public", "service_id": service_id,
                "region": "edge-ber-1", "url": "http://ber1.edge.test:9292"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let e = &r.body["endpoint"];
    assert_eq!(e["region_id"], "edge-ber-1");
    assert_eq!(e["region"], "edge-ber-1");
    assert_eq!(e["enabled"], true);
    let endpoint_id = e["id"].as_str().unwrap().to_string();

    let r = api
        .get(
            &format!("/v3/endpoints?service_id={service_id}&interface=public"),
            t,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body["endpoints"]), [endpoint_id.as_str()]);
    let r = api.get("/v3/endpoints?region_id=edge-ber-1", t).await;
    assert_eq!(ids(&r.body["endpoints"]), [endpoint_id.as_str()]);
    let r = api.get("/v3/endpoints?interface=admin", t).await;
    assert!(r.body["endpoints"].as_array().unwrap().is_empty());

    // A fresh token's catalog lists the new service in the edge region.
    let login = api
        .login("admin", common::api::ADMIN_PASSWORD, Some("admin"))
        .await;
    assert_eq!(login.status, 201, "{}", login.body);
    let image = login.body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "image")
        .cloned()
        .expect("catalog lists image");
    assert_eq!(image["name"], "glance");
    assert_eq!(
        image["endpoints"],
        json!([{"id": endpoint_id, "interface": "public", "region": "edge-ber-1",
            "region_id": "edge-ber-1", "url": "http://ber1.edge.test:9292"}])
    );

    let r = api
        .patch(
            &format!("/v3/endpoints/{endpoint_id}"),
            t,
            json!({"endpoint": {"url": "https://ber1.edge.test:9292", "interface": "internal"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["endpoint"]["url"], "https://ber1.edge.test:9292");
    assert_eq!(r.body["endpoint"]["interface"], "internal");
    assert_eq!(r.body["endpoint"]["region_id"], "edge-ber-1", "kept");
    let r = api.get(&format!("/v3/endpoints/{endpoint_id}"), t).await;
    assert_eq!(r.body["endpoint"]["interface"], "internal");

    // The edge region holds an endpoint: it cannot be deleted.
    let r = api.delete("/v3/regions/edge-ber-1", t).await;
    assert_eq!(r.status, 409, "with an endpoint: {}", r.body);

    let r = api.delete(&format!("/v3/endpoints/{endpoint_id}"), t).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = api.get(&format!("/v3/endpoints/{endpoint_id}"), t).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(api.delete("/v3/regions/edge-ber-1", t).await.status, 204);

    // Deleting a service takes its endpoints with it.
    let r = api
        .post(
            "/v3/endpoints",
            t,
            json!({"endpoint": {"interface": "admin", "service_id": service_id,
                "region_id": "RegionOne", "url": "http://glance.test:9292"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let second = r.body["endpoint"]["id"].as_str().unwrap().to_string();
    let r = api.delete(&format!("/v3/services/{service_id}"), t).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        api.get(&format!("/v3/services/{service_id}"), t)
            .await
            .status,
        404
    );
    assert_eq!(
        api.get(&format!("/v3/endpoints/{second}"), t).await.status,
        404
    );
}

async fn bad_requests_are_400(api: &Api) {
    let t = &api.admin_token;
    let compute = api.get("/v3/services?type=compute", t).await;
    let compute_id = compute.body["services"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let endpoint = |body: Value| async move { api.post("/v3/endpoints", t, body).await };

    let r = endpoint(
        json!({"endpoint": {"interface": "outside", "service_id": compute_id,
        "url": "http://x.test"}}),
    )
    .await;
    assert_eq!(r.status, 400, "bad interface: {}", r.body);
    assert!(message(&r).contains("interface"), "{}", r.body);

    let r = endpoint(
        json!({"endpoint": {"interface": "public", "service_id": "nope",
        "url": "http://x.test"}}),
    )
    .await;
    assert_eq!(r.status, 400, "unknown service: {}", r.body);
    assert!(message(&r).contains("service_id"), "{}", r.body);

    let r = endpoint(
        json!({"endpoint": {"interface": "public", "service_id": compute_id,
        "region_id": "atlantis", "url": "http://x.test"}}),
    )
    .await;
    assert_eq!(r.status, 400, "unknown region: {}", r.body);
    assert!(message(&r).contains("region_id"), "{}", r.body);

    let r = endpoint(
        json!({"endpoint": {"interface": "public", "service_id": compute_id,
        "url": "no scheme"}}),
    )
    .await;
    assert_eq!(r.status, 400, "bad url: {}", r.body);

    let r = endpoint(
        json!({"endpoint": {"interface": "public", "service_id": compute_id,
        "url": "http://x.test", "colour": "red"}}),
    )
    .await;
    assert_eq!(r.status, 400, "unknown field: {}", r.body);
    assert!(message(&r).contains("colour"), "{}", r.body);

    let r = api
        .post(
            "/v3/services",
            t,
            json!({"service": {"type": "dns", "flavour": "x"}}),
        )
        .await;
    assert_eq!(r.status, 400, "unknown field: {}", r.body);
    assert!(message(&r).contains("flavour"), "{}", r.body);

    let r = api
        .post(
            "/v3/regions",
            t,
            json!({"region": {"id": "r", "parent": "RegionOne"}}),
        )
        .await;
    assert_eq!(r.status, 400, "unknown field: {}", r.body);
    assert!(message(&r).contains("parent"), "{}", r.body);

    // Nothing was stored by the failures.
    let r = api.get("/v3/endpoints", t).await;
    assert_eq!(
        r.body["endpoints"].as_array().unwrap().len(),
        1,
        "{}",
        r.body
    );
}

async fn only_admin_changes_the_catalog(api: &Api) {
    let erin = api.user("erin", "erin-pw-1").await;
    let p = api.project("p-erin").await;
    api.grant(&p, &erin, "member").await;
    let token = api.token("erin", "erin-pw-1", Some("p-erin")).await;

    let r = api
        .post("/v3/regions", &token, json!({"region": {"id": "mine"}}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        message(&r),
        "You are not authorized to perform the requested action: identity:create_region."
    );
    let r = api
        .post("/v3/services", &token, json!({"service": {"type": "dns"}}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let compute = api.get("/v3/services?type=compute", &token).await;
    assert_eq!(
        compute.status, 200,
        "reading is for everyone: {}",
        compute.body
    );
    let compute_id = compute.body["services"][0]["id"].as_str().unwrap();
    let r = api
        .post(
            "/v3/endpoints",
            &token,
            json!({"endpoint": {"interface": "public", "service_id": compute_id,
                "url": "http://evil.test"}}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = api.delete("/v3/regions/RegionOne", &token).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(api.get("/v3/regions", &token).await.status, 200);
    assert_eq!(api.get("/v3/endpoints", &token).await.status, 200);
}
