//! `/v3/domains` over HTTP: create, list, show, update, disable (which ends
//! its users' and projects' tokens) and delete, on both backends.

#[macro_use]
mod common;

use serde_json::json;

use common::api::Api;

api_on_both!(domain_lifecycle, disabling_a_domain_ends_its_tokens);

async fn domain_lifecycle(api: &Api) {
    let admin = &api.admin_token;
    let r = api
        .post(
            "/v3/domains",
            admin,
            json!({"domain": {"name": "edge-1", "description": "MEC"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["domain"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["domain"]["enabled"], true);
    assert!(
        r.body["domain"]["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/domains/{id}"))
    );
    let dup = api
        .post("/v3/domains", admin, json!({"domain": {"name": "edge-1"}}))
        .await;
    assert_eq!(dup.status, 409, "{}", dup.body);
    let bad = api
        .post(
            "/v3/domains",
            admin,
            json!({"domain": {"name": "x", "colour": 1}}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    let r = api.get("/v3/domains?name=edge-1", admin).await;
    assert_eq!(r.body["domains"].as_array().unwrap().len(), 1, "{}", r.body);
    let r = api
        .patch(
            &format!("/v3/domains/{id}"),
            admin,
            json!({"domain": {"description": null}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["domain"]["description"].is_null());

    let r = api.delete(&format!("/v3/domains/{id}"), admin).await;
    assert_eq!(
        r.status, 409,
        "an enabled domain is not deleted: {}",
        r.body
    );
    let r = api
        .patch(
            &format!("/v3/domains/{id}"),
            admin,
            json!({"domain": {"enabled": false}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        api.delete(&format!("/v3/domains/{id}"), admin).await.status,
        204
    );
    assert_eq!(
        api.get(&format!("/v3/domains/{id}"), admin).await.status,
        404
    );
}

async fn disabling_a_domain_ends_its_tokens(api: &Api) {
    let user = api.user("dora", "dora-pw-1").await;
    let p = api.project("pd").await;
    api.grant(&p, &user, "member").await;
    let token = api.token("dora", "dora-pw-1", Some("pd")).await;
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 200);
    // A member sees her own domain, not the list of all.
    assert_eq!(api.get("/v3/domains/default", &token).await.status, 200);
    assert_eq!(api.get("/v3/domains", &token).await.status, 403);

    let r = api
        .patch(
            "/v3/domains/default",
            &api.admin_token,
            json!({"domain": {"enabled": false}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 401);
    assert_eq!(api.login("dora", "dora-pw-1", Some("pd")).await.status, 401);
}
