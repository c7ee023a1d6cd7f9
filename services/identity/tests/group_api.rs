//! `/v3/groups` and memberships over HTTP on a running identity service:
//! Keystone's group shape, filters, 409 and 400, membership
//! add/check/list/remove, a user's groups, and revocation on removal.

#[macro_use]
mod common;

use reqwest::Method;
use serde_json::{Value, json};

use common::api::{Api, Reply};

api_on_both!(
    create_show_list_update_delete,
    duplicates_and_bad_fields,
    membership,
    removal_from_a_group_ends_tokens,
    members_cannot_manage_groups,
);

fn names(r: &Reply, key: &str) -> Vec<String> {
    let mut v: Vec<String> = r.body[key]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.body))
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

async fn create(api: &Api, body: Value) -> String {
    let r = api.post("/v3/groups", &api.admin_token, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["group"]["id"].as_str().unwrap().to_string()
}

async fn create_show_list_update_delete(api: &Api) {
    let r = api
        .post(
            "/v3/groups",
            &api.admin_token,
            json!({"group": {"name": "devs", "description": "Developers", "domain_id": "default"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["group"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.body["group"],
        json!({"id": id, "name": "devs", "domain_id": "default", "description": "Developers",
            "links": {"self": format!("{}/v3/groups/{id}", api.url)}})
    );
    let ops = create(api, json!({"group": {"name": "ops"}})).await;

    let r = api
        .get(&format!("/v3/groups/{ops}"), &api.admin_token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["group"]["description"], Value::Null);
    assert_eq!(r.body["group"]["domain_id"], "default");

    let r = api.get("/v3/groups", &api.admin_token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(names(&r, "groups"), ["devs", "ops"]);
    let r = api.get("/v3/groups?name=ops", &api.admin_token).await;
    assert_eq!(names(&r, "groups"), ["ops"]);
    let r = api
        .get("/v3/groups?domain_id=nowhere", &api.admin_token)
        .await;
    assert_eq!(names(&r, "groups"), Vec::<String>::new());
    let r = api.get("/v3/groups?limit=1", &api.admin_token).await;
    assert_eq!(r.body["groups"].as_array().unwrap().len(), 1, "{}", r.body);
    assert!(r.body["links"]["next"].is_string(), "{}", r.body);

    let r = api
        .patch(
            &format!("/v3/groups/{id}"),
            &api.admin_token,
            json!({"group": {"name": "developers", "description": null}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["group"]["name"], "developers");
    assert_eq!(r.body["group"]["description"], Value::Null);

    let r = api
        .delete(&format!("/v3/groups/{id}"), &api.admin_token)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        api.get(&format!("/v3/groups/{id}"), &api.admin_token)
            .await
            .status,
        404
    );
    let r = api.get("/v3/groups", &api.admin_token).await;
    assert_eq!(names(&r, "groups"), ["ops"]);
}

async fn duplicates_and_bad_fields(api: &Api) {
    let g = create(api, json!({"group": {"name": "devs"}})).await;
    let r = api
        .post(
            "/v3/groups",
            &api.admin_token,
            json!({"group": {"name": "devs"}}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let other = create(api, json!({"group": {"name": "other"}})).await;
    let r = api
        .patch(
            &format!("/v3/groups/{other}"),
            &api.admin_token,
            json!({"group": {"name": "devs"}}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = api
        .post(
            "/v3/groups",
            &api.admin_token,
            json!({"group": {"name": "x", "colour": "red"}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
    let r = api
        .patch(
            &format!("/v3/groups/{g}"),
            &api.admin_token,
            json!({"group": {"domain_id": "x"}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("domain_id")
    );
    let r = api
        .patch(
            &format!("/v3/groups/{g}"),
            &api.admin_token,
            json!({"group": {}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

async fn membership(api: &Api) {
    let g = create(api, json!({"group": {"name": "devs"}})).await;
    let g2 = create(api, json!({"group": {"name": "ops"}})).await;
    let ann = api.user("ann", "ann-pw-1").await;
    let ben = api.user("ben", "ben-pw-1").await;
    let member = |g: &str, u: &str| format!("/v3/groups/{g}/users/{u}");
    let head = |path: String| async move {
        api.call(Method::HEAD, &path, Some(&api.admin_token), None)
            .await
            .status
    };

    assert_eq!(head(member(&g, &ann)).await, 404);
    assert_eq!(
        api.put(&member(&g, &ann), &api.admin_token).await.status,
        204
    );
    assert_eq!(
        api.put(&member(&g, &ann), &api.admin_token).await.status,
        204,
        "idempotent"
    );
    assert_eq!(
        api.put(&member(&g2, &ann), &api.admin_token).await.status,
        204
    );
    assert_eq!(
        api.put(&member(&g, &ben), &api.admin_token).await.status,
        204
    );
    assert_eq!(
        api.put(&member(&g, "no-such-user"), &api.admin_token)
            .await
            .status,
        404
    );
    assert_eq!(
        api.put(&member("no-such-group", &ann), &api.admin_token)
            .await
            .status,
        404
    );
    assert_eq!(head(member(&g, &ann)).await, 204);
    assert_eq!(
        api.get(&member(&g, &ann), &api.admin_token).await.status,
        204
    );
    assert_eq!(head(member(&g2, &ben)).await, 404);

    let r = api
        .get(&format!("/v3/groups/{g}/users"), &api.admin_token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(names(&r, "users"), ["ann", "ben"]);
    assert!(!r.body.to_string().contains("argon2"));
    let r = api
        .get(&format!("/v3/groups/{g}/users?name=ben"), &api.admin_token)
        .await;
    assert_eq!(names(&r, "users"), ["ben"]);
    let r = api
        .get("/v3/groups/no-such-group/users", &api.admin_token)
        .await;
    assert_eq!(r.status, 404, "{}", r.body);

    let r = api
        .get(&format!("/v3/users/{ann}/groups"), &api.admin_token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(names(&r, "groups"), ["devs", "ops"]);
    assert!(
        r.body["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/users/{ann}/groups"))
    );
    // A user reads its own groups.
    let token = api.token("ben", "ben-pw-1", None).await;
    let r = api.get(&format!("/v3/users/{ben}/groups"), &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(names(&r, "groups"), ["devs"]);

    assert_eq!(
        api.delete(&member(&g, &ann), &api.admin_token).await.status,
        204
    );
    assert_eq!(head(member(&g, &ann)).await, 404);
    assert_eq!(
        api.delete(&member(&g, &ann), &api.admin_token).await.status,
        404
    );
    let r = api
        .get(&format!("/v3/users/{ann}/groups"), &api.admin_token)
        .await;
    assert_eq!(names(&r, "groups"), ["ops"]);

    // Deleting a group ends its memberships.
    assert_eq!(
        api.delete(&format!("/v3/groups/{g2}"), &api.admin_token)
            .await
            .status,
        204
    );
    let r = api
        .get(&format!("/v3/users/{ann}/groups"), &api.admin_token)
        .await;
    assert_eq!(names(&r, "groups"), Vec::<String>::new());
}

async fn removal_from_a_group_ends_tokens(api: &Api) {
    let g = create(api, json!({"group": {"name": "devs"}})).await;
    let cat = api.user("cat", "cat-pw-1").await;
    let path = format!("/v3/groups/{g}/users/{cat}");
    assert_eq!(api.put(&path, &api.admin_token).await.status, 204);
    let token = api.token("cat", "cat-pw-1", None).await;
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 200);
    assert_eq!(api.delete(&path, &api.admin_token).await.status, 204);
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 401);
}

async fn members_cannot_manage_groups(api: &Api) {
    let g = create(api, json!({"group": {"name": "devs"}})).await;
    let dan = api.user("dan", "dan-pw-1").await;
    let p = api.project("p1").await;
    api.grant(&p, &dan, "member").await;
    let token = api.token("dan", "dan-pw-1", Some("p1")).await;
    let r = api
        .post("/v3/groups", &token, json!({"group": {"name": "mine"}}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(api.get("/v3/groups", &token).await.status, 403);
    assert_eq!(
        api.get(&format!("/v3/groups/{g}"), &token).await.status,
        404
    );
    let r = api
        .put(&format!("/v3/groups/{g}/users/{dan}"), &token)
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = api
        .get(&format!("/v3/groups/{g}/users"), &api.admin_token)
        .await;
    assert_eq!(names(&r, "users"), Vec::<String>::new());
}
