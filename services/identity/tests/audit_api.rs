//! `/v3/OS-VIRGA/audit-events` over HTTP: a change made through the API is
//! in the trail with its initiator; filters; only admins may read it.

#[macro_use]
mod common;

use serde_json::json;

use common::api::Api;

api_on_both!(project_creation_is_in_the_trail, filters_limit_and_policy);

async fn project_creation_is_in_the_trail(api: &Api) {
    let t = &api.admin_token;
    let r = api
        .post("/v3/projects", t, json!({"project": {"name": "audited"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let project_id = r.body["project"]["id"].as_str().unwrap().to_string();

    let r = api
        .get(
            "/v3/OS-VIRGA/audit-events?action=identity:create_project",
            t,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let events = r.body["audit_events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{}", r.body);
    let e = &events[0];
    assert_eq!(e["action"], "identity:create_project");
    assert_eq!(e["outcome"], "success");
    assert_eq!(e["target"], json!({"type": "project", "id": project_id}));
    assert_eq!(e["initiator"]["user_id"], api.admin.admin_user_id);
    assert_eq!(e["initiator"]["project_id"], api.admin.admin_project_id);
    assert!(e["at"].as_str().unwrap().ends_with('Z'), "{}", e["at"]);
}

async fn filters_limit_and_policy(api: &Api) {
    let t = &api.admin_token;
    let mut ids = Vec::new();
    for name in ["a1", "a2", "a3"] {
        let r = api
            .post("/v3/projects", t, json!({"project": {"name": name}}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["project"]["id"].as_str().unwrap().to_string());
    }
    let r = api
        .patch(
            &format!("/v3/projects/{}", ids[0]),
            t,
            json!({"project": {"description": "changed"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Newest first.
    let r = api
        .get(
            "/v3/OS-VIRGA/audit-events?action=identity:create_project",
            t,
        )
        .await;
    let targets: Vec<&str> = r.body["audit_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(targets, [&ids[2], &ids[1], &ids[0]], "{}", r.body);

    let r = api
        .get(
            "/v3/OS-VIRGA/audit-events?action=identity:create_project&limit=1",
            t,
        )
        .await;
    assert_eq!(r.body["audit_events"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["audit_events"][0]["target"]["id"], ids[2]);

    let r = api
        .get(
            &format!("/v3/OS-VIRGA/audit-events?target_id={}", ids[0]),
            t,
        )
        .await;
    let actions: Vec<&str> = r.body["audit_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["identity:update_project", "identity:create_project"],
        "{}",
        r.body
    );

    let r = api
        .get("/v3/OS-VIRGA/audit-events?since=2999-01-01T00:00:00Z", t)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["audit_events"].as_array().unwrap().is_empty());
    let r = api
        .get("/v3/OS-VIRGA/audit-events?since=yesterday", t)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = api.get("/v3/OS-VIRGA/audit-events?limit=0", t).await;
    assert_eq!(r.status, 400, "{}", r.body);

    let erin = api.user("erin", "erin-pw-1").await;
    let p = api.project("p-erin").await;
    api.grant(&p, &erin, "member").await;
    let token = api.token("erin", "erin-pw-1", Some("p-erin")).await;
    let r = api.get("/v3/OS-VIRGA/audit-events", &token).await;
    assert_eq!(r.status, 403, "{}", r.body);
}
