//! `/v3/roles` over HTTP: create, show, list with filters, update, delete;
//! duplicate names, unknown fields and non-admins refused.

#[macro_use]
mod common;

use serde_json::json;

use common::api::Api;

api_on_both!(role_crud, role_errors);

async fn role_crud(api: &Api) {
    let admin = &api.admin_token;
    let r = api
        .post(
            "/v3/roles",
            admin,
            json!({"role": {"name": "developer", "description": "Writes code"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let role = &r.body["role"];
    let id = role["id"].as_str().unwrap().to_string();
    assert_eq!(role["name"], "developer");
    assert_eq!(role["description"], "Writes code");
    assert_eq!(role["domain_id"], json!(null));
    assert!(role.get("domain_id").is_some(), "domain_id shown as null");
    assert_eq!(role["options"], json!({}));
    assert!(
        role["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/roles/{id}")),
        "{}",
        role["links"]
    );

    let r = api.get(&format!("/v3/roles/{id}"), admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["role"]["name"], "developer");

    // Listing: the bootstrap roles and the new one; filtered by name.
    let r = api.get("/v3/roles", admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut names: Vec<&str> = r.body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert!(
        names.contains(&"developer") && names.contains(&"admin"),
        "{names:?}"
    );
    assert_eq!(r.body["links"]["previous"], json!(null));
    let r = api.get("/v3/roles?name=developer", admin).await;
    assert_eq!(r.body["roles"].as_array().unwrap().len(), 1, "{}", r.body);
    assert_eq!(r.body["roles"][0]["id"], id);
    let r = api.get("/v3/roles?name=nope", admin).await;
    assert_eq!(r.body["roles"], json!([]));
    // Without domain_id only global roles are listed; a domain's roles with it.
    let r = api.get("/v3/roles?domain_id=default", admin).await;
    assert_eq!(r.body["roles"], json!([]), "{}", r.body);

    let r = api
        .patch(
            &format!("/v3/roles/{id}"),
            admin,
            json!({"role": {"name": "engineer", "description": null}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["role"]["name"], "engineer");
    assert_eq!(r.body["role"]["description"], json!(null));
    let r = api.get(&format!("/v3/roles/{id}"), admin).await;
    assert_eq!(r.body["role"]["name"], "engineer");

    let r = api.delete(&format!("/v3/roles/{id}"), admin).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = api.get(&format!("/v3/roles/{id}"), admin).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(
        r.body["error"]["message"].as_str().unwrap().contains(&id),
        "{}",
        r.body
    );
    let r = api.delete(&format!("/v3/roles/{id}"), admin).await;
    assert_eq!(r.status, 404);
}

async fn role_errors(api: &Api) {
    let admin = &api.admin_token;
    let r = api
        .post("/v3/roles", admin, json!({"role": {"name": "admin"}}))
        .await;
    assert_eq!(r.status, 409, "duplicate name: {}", r.body);
    assert_eq!(r.body["error"]["title"], "Conflict");

    let r = api
        .post(
            "/v3/roles",
            admin,
            json!({"role": {"name": "x", "colour": "red"}}),
        )
        .await;
    assert_eq!(r.status, 400, "unknown field: {}", r.body);
    let r = api.post("/v3/roles", admin, json!({"role": {}})).await;
    assert_eq!(r.status, 400, "no name: {}", r.body);
    let r = api
        .post("/v3/roles", admin, json!({"role": {"name": "  "}}))
        .await;
    assert_eq!(r.status, 400, "blank name: {}", r.body);
    let r = api
        .post(
            "/v3/roles",
            admin,
            json!({"role": {"name": "d", "domain_id": "missing"}}),
        )
        .await;
    assert_eq!(r.status, 404, "unknown domain: {}", r.body);

    let reader_id = api.role_id("reader").await;
    let r = api
        .patch(
            &format!("/v3/roles/{reader_id}"),
            admin,
            json!({"role": {"name": "member"}}),
        )
        .await;
    assert_eq!(r.status, 409, "rename onto an existing name: {}", r.body);
    let r = api
        .patch(
            &format!("/v3/roles/{reader_id}"),
            admin,
            json!({"role": {"bogus": 1}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);

    // A member may read roles but not change them.
    let alice = api.user("alice", "alice-pw-1").await;
    let p = api.project("p1").await;
    api.grant(&p, &alice, "member").await;
    let token = api.token("alice", "alice-pw-1", Some("p1")).await;
    let r = api.get("/v3/roles", &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api
        .post("/v3/roles", &token, json!({"role": {"name": "mine"}}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = api.delete(&format!("/v3/roles/{reader_id}"), &token).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = api.get(&format!("/v3/roles/{reader_id}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
}
