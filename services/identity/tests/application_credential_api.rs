//! `/v3/users/{user_id}/application_credentials` over HTTP: a secret shown
//! once, logins limited to the chosen roles, deletion ending the
//! credential's tokens, other users kept out.

#[macro_use]
mod common;

use serde_json::{Value, json};

use common::api::{Api, Reply};

api_on_both!(
    create_show_once_and_login_with_chosen_roles,
    delete_ends_logins_and_tokens,
    other_users_and_bad_requests,
);

fn message(r: &Reply) -> &str {
    r.body["error"]["message"].as_str().unwrap_or("")
}

fn role_names(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

async fn app_login(api: &Api, id: &str, secret: &str) -> Reply {
    api.call(
        reqwest::Method::POST,
        "/v3/auth/tokens",
        None,
        Some(
            json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": id, "secret": secret}}}}),
        ),
    )
    .await
}

/// A user with `member` on a fresh project, and a token scoped to it.
async fn member(api: &Api, name: &str) -> (String, String, String) {
    let pw = format!("{name}-pw-1");
    let user = api.user(name, &pw).await;
    let project = api.project(&format!("{name}-project")).await;
    api.grant(&project, &user, "member").await;
    let token = api.token(name, &pw, Some(&format!("{name}-project"))).await;
    (user, project, token)
}

async fn create_show_once_and_login_with_chosen_roles(api: &Api) {
    let (dave, project, token) = member(api, "dave").await;
    let path = format!("/v3/users/{dave}/application_credentials");
    // What openstackclient sends: nulls and an empty access-rule list.
    let r = api
        .post(
            &path,
            &token,
            json!({"application_credential": {"name": "ci", "roles": [{"name": "reader"}],
                "expires_at": null, "description": null, "secret": null,
                "unrestricted": null, "access_rules": []}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = &r.body["application_credential"];
    let id = c["id"].as_str().unwrap().to_string();
    let secret = c["secret"].as_str().expect("secret on create").to_string();
    assert_eq!(secret.len(), 43, "32 random bytes, base64url: {secret}");
    assert_eq!(c["user_id"], dave);
    assert_eq!(c["project_id"], project);
    assert_eq!(c["system"], Value::Null);
    assert_eq!(c["expires_at"], Value::Null);
    assert_eq!(c["unrestricted"], false);
    assert_eq!(role_names(&c["roles"]), ["reader"]);
    assert_eq!(c["roles"][0]["id"], api.role_id("reader").await);
    assert!(
        c["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/users/{dave}/application_credentials/{id}"))
    );

    // The secret is never shown again.
    let r = api.get(&format!("{path}/{id}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["application_credential"].get("secret").is_none());
    assert_eq!(r.body["application_credential"]["name"], "ci");
    let r = api.get(&path, &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = r.body["application_credentials"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].get("secret").is_none());

    // Its token carries only the chosen role, on the token's project.
    let r = app_login(api, &id, &secret).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(role_names(&r.body["token"]["roles"]), ["reader"]);
    assert_eq!(r.body["token"]["project"]["id"], project);
    assert_eq!(r.body["token"]["application_credential"]["id"], id);

    // A secret of the caller's choice, all the token's roles by default,
    // an expiry in the future.
    let r = api
        .post(
            &path,
            &token,
            json!({"application_credential": {"name": "backup", "secret": "my-own-secret",
                "roles": [], "expires_at": "2099-01-01T00:00:00"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = &r.body["application_credential"];
    assert_eq!(c["secret"], "my-own-secret");
    assert_eq!(c["expires_at"], "2099-01-01T00:00:00.000000");
    assert_eq!(role_names(&c["roles"]), ["member", "reader"]);
    let backup = c["id"].as_str().unwrap().to_string();
    let r = app_login(api, &backup, "my-own-secret").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(role_names(&r.body["token"]["roles"]), ["member", "reader"]);

    let r = api.get(&format!("{path}?name=backup"), &token).await;
    let listed = r.body["application_credentials"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{}", r.body);
    assert_eq!(listed[0]["id"], backup);

    // The same name again is a conflict.
    let r = api
        .post(
            &path,
            &token,
            json!({"application_credential": {"name": "ci"}}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
}

async fn delete_ends_logins_and_tokens(api: &Api) {
    let (dave, _, token) = member(api, "dave").await;
    let path = format!("/v3/users/{dave}/application_credentials");
    let r = api
        .post(
            &path,
            &token,
            json!({"application_credential": {"name": "ci"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["application_credential"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = r.body["application_credential"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let login = app_login(api, &id, &secret).await;
    assert_eq!(login.status, 201, "{}", login.body);
    let app_token = login.headers["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(api.get("/v3/auth/projects", &app_token).await.status, 200);

    let r = api.delete(&format!("{path}/{id}"), &token).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app_login(api, &id, &secret).await;
    assert_eq!(r.status, 401, "login with a deleted credential: {}", r.body);
    let r = api.get("/v3/auth/projects", &app_token).await;
    assert_eq!(r.status, 401, "its token after deletion: {}", r.body);
    let r = api.get(&format!("{path}/{id}"), &api.admin_token).await;
    assert_eq!(r.status, 404, "{}", r.body);
}

async fn other_users_and_bad_requests(api: &Api) {
    let (dave, _, dave_token) = member(api, "dave").await;
    let (erin, _, erin_token) = member(api, "erin").await;
    let dave_path = format!("/v3/users/{dave}/application_credentials");
    let r = api
        .post(
            &dave_path,
            &dave_token,
            json!({"application_credential": {"name": "ci"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["application_credential"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Erin can neither see nor delete it, through either user's path.
    let r = api.get(&format!("{dave_path}/{id}"), &erin_token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let erin_path = format!("/v3/users/{erin}/application_credentials");
    let r = api.get(&format!("{erin_path}/{id}"), &erin_token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = api.delete(&format!("{erin_path}/{id}"), &erin_token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    // Another user's collection is hidden too: 404, not 403.
    let r = api.get(&dave_path, &erin_token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = api
        .post(
            &dave_path,
            &erin_token,
            json!({"application_credential": {"name": "mine"}}),
        )
        .await;
    assert_eq!(r.status, 404, "for another user: {}", r.body);
    assert_eq!(
        api.get(&format!("{dave_path}/{id}"), &dave_token)
            .await
            .status,
        200,
        "still there"
    );

    let r = api
        .post(
            &dave_path,
            &dave_token,
            json!({"application_credential": {"name": "old", "expires_at": "2001-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(r.status, 400, "expired: {}", r.body);
    assert!(message(&r).contains("expires_at"), "{}", r.body);
    let r = api
        .post(
            &dave_path,
            &dave_token,
            json!({"application_credential": {"name": "x", "expires_at": "tomorrow"}}),
        )
        .await;
    assert_eq!(r.status, 400, "bad time: {}", r.body);
    let r = api
        .post(
            &dave_path,
            &dave_token,
            json!({"application_credential": {"name": "root", "roles": [{"name": "admin"}]}}),
        )
        .await;
    assert_eq!(r.status, 400, "a role dave lacks: {}", r.body);
    assert!(message(&r).contains("unassigned role"), "{}", r.body);
    let r = api
        .post(
            &dave_path,
            &dave_token,
            json!({"application_credential": {"name": "x", "colour": "red"}}),
        )
        .await;
    assert_eq!(r.status, 400, "unknown field: {}", r.body);
    assert!(message(&r).contains("colour"), "{}", r.body);
    let unscoped = api.token("dave", "dave-pw-1", None).await;
    let r = api
        .post(
            &dave_path,
            &unscoped,
            json!({"application_credential": {"name": "x"}}),
        )
        .await;
    assert_eq!(r.status, 400, "unscoped token: {}", r.body);

    let r = api.get(&dave_path, &dave_token).await;
    assert_eq!(
        r.body["application_credentials"].as_array().unwrap().len(),
        1,
        "nothing else stored: {}",
        r.body
    );
}
