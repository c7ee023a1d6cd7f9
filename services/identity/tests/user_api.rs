//! `/v3/users` over HTTP on a running identity service: Keystone's user
//! shape without the password, filters, who may see whom, 409 and 400,
//! revocation of a disabled user's tokens, and changing one's password.

#[macro_use]
mod common;

use serde_json::{Value, json};

use common::api::{Api, Reply};

api_on_both!(
    create_show_list_update_delete,
    password_is_never_shown,
    duplicates_and_bad_fields,
    members_see_only_themselves,
    disabling_a_user_ends_its_tokens,
    deleting_a_user_ends_its_tokens,
    change_own_password,
    admin_sets_password,
);

fn no_password(r: &Reply, secret: &str) {
    let text = r.body.to_string();
    assert!(
        !text.contains("password\":\"") && !text.contains(secret),
        "{text}"
    );
    assert!(!text.contains("argon2"), "{text}");
    assert!(!text.contains("password_hash"), "{text}");
}

async fn create(api: &Api, body: Value) -> Value {
    let r = api.post("/v3/users", &api.admin_token, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["user"].clone()
}

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

async fn create_show_list_update_delete(api: &Api) {
    let u = create(
        api,
        json!({"user": {"name": "alice", "password": "alice-pw-1", "enabled": true,
            "description": null, "email": null, "default_project_id": null, "options": {}}}),
    )
    .await;
    let id = u["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32, "{u}");
    assert_eq!(
        u,
        json!({"id": id, "name": "alice", "domain_id": "default", "enabled": true,
            "password_expires_at": null, "options": {},
            "links": {"self": format!("{}/v3/users/{id}", api.url)}})
    );
    let r = api.get(&format!("/v3/users/{id}"), &api.admin_token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"], u);

    let p = api.project("home").await;
    let bob = create(
        api,
        json!({"user": {"name": "bob", "enabled": false, "default_project_id": p}}),
    )
    .await;
    assert_eq!(bob["default_project_id"], p);
    assert_eq!(bob["enabled"], false);

    let r = api.get("/v3/users", &api.admin_token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(names(&r, "users"), ["admin", "alice", "bob"]);
    assert_eq!(r.body["links"]["previous"], Value::Null);
    let r = api.get("/v3/users?name=alice", &api.admin_token).await;
    assert_eq!(names(&r, "users"), ["alice"]);
    let r = api.get("/v3/users?enabled=false", &api.admin_token).await;
    assert_eq!(names(&r, "users"), ["bob"]);
    let r = api
        .get("/v3/users?domain_id=default&enabled=true", &api.admin_token)
        .await;
    assert_eq!(names(&r, "users"), ["admin", "alice"]);
    let r = api
        .get("/v3/users?domain_id=nowhere", &api.admin_token)
        .await;
    assert_eq!(names(&r, "users"), Vec::<String>::new());
    let r = api.get("/v3/users?limit=2", &api.admin_token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["users"].as_array().unwrap().len(), 2);
    let next = r.body["links"]["next"].as_str().expect("a next link");
    let r = api
        .get(next.strip_prefix(&api.url).unwrap(), &api.admin_token)
        .await;
    assert_eq!(r.body["users"].as_array().unwrap().len(), 1, "{}", r.body);

    let r = api
        .patch(
            &format!("/v3/users/{id}"),
            &api.admin_token,
            json!({"user": {"name": "alice2", "default_project_id": p}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["name"], "alice2");
    assert_eq!(r.body["user"]["default_project_id"], p);
    let r = api
        .patch(
            &format!("/v3/users/{id}"),
            &api.admin_token,
            json!({"user": {"default_project_id": null}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["user"].get("default_project_id").is_none(),
        "{}",
        r.body
    );
    let r = api
        .patch(
            &format!("/v3/users/{id}"),
            &api.admin_token,
            json!({"user": {"domain_id": "other"}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);

    let r = api
        .delete(&format!("/v3/users/{id}"), &api.admin_token)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = api.get(&format!("/v3/users/{id}"), &api.admin_token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = api
        .delete(&format!("/v3/users/{id}"), &api.admin_token)
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

async fn password_is_never_shown(api: &Api) {
    let secret = "s3cret-never-shown";
    let r = api
        .post(
            "/v3/users",
            &api.admin_token,
            json!({"user": {"name": "carol", "password": secret}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    no_password(&r, secret);
    let id = r.body["user"]["id"].as_str().unwrap().to_string();
    // The password works, so it was stored.
    api.token("carol", secret, None).await;
    no_password(
        &api.get(&format!("/v3/users/{id}"), &api.admin_token).await,
        secret,
    );
    no_password(&api.get("/v3/users", &api.admin_token).await, secret);
    let r = api
        .patch(
            &format!("/v3/users/{id}"),
            &api.admin_token,
            json!({"user": {"password": "another-secret-2"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    no_password(&r, "another-secret-2");
}

async fn duplicates_and_bad_fields(api: &Api) {
    create(api, json!({"user": {"name": "dave"}})).await;
    let r = api
        .post(
            "/v3/users",
            &api.admin_token,
            json!({"user": {"name": "dave"}}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    // Same name in another domain is fine.
    let d = api
        .post(
            "/v3/domains",
            &api.admin_token,
            json!({"domain": {"name": "other"}}),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let other = d.body["domain"]["id"].as_str().unwrap();
    let u = create(api, json!({"user": {"name": "dave", "domain_id": other}})).await;
    assert_eq!(u["domain_id"], other);

    for (body, field) in [
        (json!({"user": {"name": "x", "colour": "red"}}), "colour"),
        (json!({"user": {"name": "x"}, "extra": 1}), "extra"),
        (
            json!({"user": {"name": "x", "email": "x@example.com"}}),
            "email",
        ),
        (
            json!({"user": {"name": "x", "options": {"lock_password": true}}}),
            "lock_password",
        ),
        (json!({"user": {"name": "   "}}), "name"),
        (json!({"user": {}}), "name"),
    ] {
        let r = api.post("/v3/users", &api.admin_token, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let r = api
        .post(
            "/v3/users",
            &api.admin_token,
            json!({"user": {"name": "x", "domain_id": "nowhere"}}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let admin = &api.admin.admin_user_id;
    let r = api
        .patch(
            &format!("/v3/users/{admin}"),
            &api.admin_token,
            json!({"user": {"colour": "red"}}),
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
            &format!("/v3/users/{admin}"),
            &api.admin_token,
            json!({"user": {}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

async fn members_see_only_themselves(api: &Api) {
    let erin = api.user("erin", "erin-pw-1").await;
    let frank = api.user("frank", "frank-pw-1").await;
    let p = api.project("p1").await;
    api.grant(&p, &erin, "member").await;
    let token = api.token("erin", "erin-pw-1", Some("p1")).await;

    let r = api.get(&format!("/v3/users/{erin}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["name"], "erin");
    let r = api.get(&format!("/v3/users/{frank}"), &token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = api.get("/v3/users/no-such-user", &token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = api
        .post("/v3/users", &token, json!({"user": {"name": "mallory"}}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(api.get("/v3/users", &token).await.status, 403);
    let r = api
        .patch(
            &format!("/v3/users/{erin}"),
            &token,
            json!({"user": {"enabled": true}}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        api.delete(&format!("/v3/users/{frank}"), &token)
            .await
            .status,
        404
    );
    assert_eq!(
        api.get(&format!("/v3/users/{erin}/groups"), &token)
            .await
            .status,
        200
    );
    assert_eq!(
        api.get(&format!("/v3/users/{frank}/groups"), &token)
            .await
            .status,
        404
    );
}

async fn disabling_a_user_ends_its_tokens(api: &Api) {
    let gina = api.user("gina", "gina-pw-1").await;
    let p = api.project("p2").await;
    api.grant(&p, &gina, "member").await;
    let token = api.token("gina", "gina-pw-1", Some("p2")).await;
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 200);
    let r = api
        .patch(
            &format!("/v3/users/{gina}"),
            &api.admin_token,
            json!({"user": {"enabled": false}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["enabled"], false);
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 401);
    assert_eq!(api.login("gina", "gina-pw-1", Some("p2")).await.status, 401);
    // The admin's own token is untouched.
    assert_eq!(api.get("/v3/users", &api.admin_token).await.status, 200);
}

async fn deleting_a_user_ends_its_tokens(api: &Api) {
    let hal = api.user("hal", "hal-pw-1").await;
    let token = api.token("hal", "hal-pw-1", None).await;
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 200);
    let r = api
        .delete(&format!("/v3/users/{hal}"), &api.admin_token)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 401);
}

async fn change_own_password(api: &Api) {
    let ivy = api.user("ivy", "ivy-old-pw").await;
    let token = api.token("ivy", "ivy-old-pw", None).await;
    let path = format!("/v3/users/{ivy}/password");
    let change = |original: &str, new: &str| json!({"user": {"password": new, "original_password": original}});
    let r = api
        .call(
            reqwest::Method::POST,
            &path,
            None,
            Some(change("wrong-pw", "ivy-new-pw")),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(
        r.body["error"]["message"],
        "The request you have made requires authentication."
    );
    let r = api
        .call(
            reqwest::Method::POST,
            "/v3/users/no-such-user/password",
            None,
            Some(change("ivy-old-pw", "ivy-new-pw")),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = api
        .call(
            reqwest::Method::POST,
            &path,
            None,
            Some(json!({"user": {"password": "x"}})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("original_password")
    );
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 200);

    let r = api
        .call(
            reqwest::Method::POST,
            &path,
            None,
            Some(change("ivy-old-pw", "ivy-new-pw")),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.body, Value::Null);
    assert_eq!(api.login("ivy", "ivy-old-pw", None).await.status, 401);
    assert_eq!(api.login("ivy", "ivy-new-pw", None).await.status, 201);
    assert_eq!(
        api.get("/v3/auth/projects", &token).await.status,
        401,
        "tokens from before the change end"
    );
}

async fn admin_sets_password(api: &Api) {
    let jack = api.user("jack", "jack-old-pw").await;
    let token = api.token("jack", "jack-old-pw", None).await;
    let r = api
        .patch(
            &format!("/v3/users/{jack}"),
            &api.admin_token,
            json!({"user": {"password": "jack-new-pw"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 401);
    assert_eq!(api.login("jack", "jack-old-pw", None).await.status, 401);
    assert_eq!(api.login("jack", "jack-new-pw", None).await.status, 201);
}
