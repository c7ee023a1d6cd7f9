//! `/v3/auth/*` over HTTP on a running identity service: issuing tokens by
//! password, token and application credential for every scope; validating,
//! checking and revoking them; the uniform 401; brute-force lockout; and
//! what a token gives access to.

#[macro_use]
mod common;

use serde_json::{Value, json};
use virga_identity::db::application_credential::{self, NewApplicationCredential};

use common::api::{ADMIN_PASSWORD, Api, Reply};

api_on_both!(
    password_login_shows_keystone_token,
    failures_are_one_uniform_401,
    validate_check_and_revoke,
    rescope_and_scopes,
    application_credential_login,
    disabled_project_tokens_stop_working,
    malformed_requests_name_the_field,
    caller_scopes_and_catalog,
);

fn assert_unauthorized(r: &Reply, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.body);
    assert_eq!(
        r.body,
        json!({"error": {"code": 401, "title": "Unauthorized",
            "message": "The request you have made requires authentication."}}),
        "{what}"
    );
    let challenge = r.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Keystone uri=\"http://"),
        "{challenge}"
    );
}

fn is_keystone_time(s: &Value) -> bool {
    let s = s.as_str().unwrap_or("");
    s.len() == 27 && s.ends_with(".000000Z") && s.as_bytes()[10] == b'T'
}

async fn password_login_shows_keystone_token(api: &Api) {
    let r = api.login("admin", ADMIN_PASSWORD, Some("admin")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.headers["x-subject-token"].to_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a compact JWS");
    let t = &r.body["token"];
    assert_eq!(t["methods"], json!(["password"]));
    assert_eq!(t["user"]["name"], "admin");
    assert_eq!(t["user"]["id"], api.admin.admin_user_id);
    assert_eq!(
        t["user"]["domain"],
        json!({"id": "default", "name": "Default"})
    );
    assert_eq!(t["project"]["id"], api.admin.admin_project_id);
    assert_eq!(t["project"]["domain"]["id"], "default");
    assert_eq!(t["is_domain"], false);
    assert!(is_keystone_time(&t["expires_at"]), "{}", t["expires_at"]);
    assert!(is_keystone_time(&t["issued_at"]), "{}", t["issued_at"]);
    assert!(t["expires_at"].as_str() > t["issued_at"].as_str());
    assert_eq!(t["audit_ids"].as_array().unwrap().len(), 1);
    let roles: Vec<&str> = t["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["admin", "member", "reader"], "implied roles listed");
    let compute = t["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "compute")
        .expect("catalog lists compute");
    assert_eq!(compute["name"], "nova");
    assert_eq!(
        compute["endpoints"][0]["url"],
        "http://compute.test:8774/v2.1"
    );
    assert_eq!(compute["endpoints"][0]["region_id"], "RegionOne");
    assert_eq!(compute["endpoints"][0]["region"], "RegionOne");
    assert_eq!(compute["endpoints"][0]["interface"], "public");

    // By user id, no catalog on request.
    let r = api
        .call(
            reqwest::Method::POST,
            "/v3/auth/tokens?nocatalog",
            None,
            Some(
                json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "id": api.admin.admin_user_id, "password": ADMIN_PASSWORD}}},
                "scope": {"project": {"id": api.admin.admin_project_id}}}}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body["token"].get("catalog").is_none());
}

async fn failures_are_one_uniform_401(api: &Api) {
    let alice = api.user("alice", "alice-pw-1").await;
    let p = api.project("p1").await;
    api.grant(&p, &alice, "member").await;
    assert_unauthorized(
        &api.login("alice", "wrong", Some("p1")).await,
        "wrong password",
    );
    assert_unauthorized(&api.login("nobody", "x", Some("p1")).await, "unknown user");
    assert_unauthorized(
        &api.login("alice", "alice-pw-1", Some("admin")).await,
        "no role on the project",
    );
    assert_unauthorized(
        &api.login("alice", "alice-pw-1", Some("missing")).await,
        "unknown project",
    );
    let disabled = virga_identity::db::user::UserUpdate {
        enabled: Some(false),
        ..Default::default()
    };
    virga_identity::db::user::update(&api.db, &alice, disabled)
        .await
        .unwrap();
    assert_unauthorized(
        &api.login("alice", "alice-pw-1", Some("p1")).await,
        "disabled user",
    );

    // Bad tokens on an authenticated endpoint: none, garbage, tampered.
    let no_token = api
        .call(reqwest::Method::GET, "/v3/auth/projects", None, None)
        .await;
    assert_unauthorized(&no_token, "no token");
    assert_unauthorized(&api.get("/v3/auth/projects", "garbage").await, "garbage");
    let mut tampered = api.admin_token.clone().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_unauthorized(&api.get("/v3/auth/projects", &tampered).await, "tampered");
}

async fn validate_check_and_revoke(api: &Api) {
    let bob = api.user("bob", "bob-pw-1").await;
    let p = api.project("p2").await;
    api.grant(&p, &bob, "member").await;
    let token = api.token("bob", "bob-pw-1", Some("p2")).await;

    let get = |caller: String, subject: String| async move {
        let resp = api
            .client
            .get(format!("{}/v3/auth/tokens", api.url))
            .header("X-Auth-Token", caller)
            .header("X-Subject-Token", subject)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        (status, body)
    };
    let (status, body) = get(api.admin_token.clone(), token.clone()).await;
    assert_eq!(status, 200, "admin validates: {body}");
    assert_eq!(body["token"]["user"]["id"], bob);
    let (status, _) = get(token.clone(), token.clone()).await;
    assert_eq!(status, 200, "a user validates their own token");
    let (status, _) = get(token.clone(), api.admin_token.clone()).await;
    assert_eq!(status, 403, "but not another user's");

    let head = api
        .client
        .head(format!("{}/v3/auth/tokens", api.url))
        .header("X-Auth-Token", &api.admin_token)
        .header("X-Subject-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);

    let revoke = api
        .client
        .delete(format!("{}/v3/auth/tokens", api.url))
        .header("X-Auth-Token", &token)
        .header("X-Subject-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status().as_u16(), 204);
    let (status, body) = get(api.admin_token.clone(), token.clone()).await;
    assert_eq!(status, 404, "revoked: {body}");
    assert_unauthorized(&api.get("/v3/auth/projects", &token).await, "revoked token");
    // Bob can log in again; only that token died.
    api.token("bob", "bob-pw-1", Some("p2")).await;
}

async fn rescope_and_scopes(api: &Api) {
    let carol = api.user("carol", "carol-pw-1").await;
    let p = api.project("p3").await;
    api.grant(&p, &carol, "reader").await;
    let unscoped = api.login("carol", "carol-pw-1", None).await;
    assert_eq!(unscoped.status, 201, "{}", unscoped.body);
    let t = &unscoped.body["token"];
    assert!(t.get("project").is_none() && t.get("roles").is_none() && t.get("catalog").is_none());
    let unscoped_token = unscoped.headers["x-subject-token"].to_str().unwrap();

    let rescoped = api
        .call(
            reqwest::Method::POST,
            "/v3/auth/tokens",
            None,
            Some(
                json!({"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped_token}},
                "scope": {"project": {"id": p}}}}),
            ),
        )
        .await;
    assert_eq!(rescoped.status, 201, "{}", rescoped.body);
    let r = &rescoped.body["token"];
    assert_eq!(r["project"]["id"], p);
    assert_eq!(r["methods"], json!(["password", "token"]));
    assert_eq!(r["roles"].as_array().unwrap().len(), 1, "reader only");
    assert!(r["expires_at"].as_str() <= t["expires_at"].as_str());
    assert_eq!(
        r["audit_ids"][1], t["audit_ids"][0],
        "chained to its parent"
    );

    // System scope: the admin has it, carol does not.
    let system = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": ADMIN_PASSWORD}}},
        "scope": {"system": {"all": true}}}});
    let r = api
        .call(reqwest::Method::POST, "/v3/auth/tokens", None, Some(system))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["token"]["system"], json!({"all": true}));
    let carol_system = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "id": carol, "password": "carol-pw-1"}}}, "scope": {"system": {"all": true}}}});
    let r = api
        .call(
            reqwest::Method::POST,
            "/v3/auth/tokens",
            None,
            Some(carol_system),
        )
        .await;
    assert_unauthorized(&r, "system scope without a system role");
}

async fn application_credential_login(api: &Api) {
    let dave = api.user("dave", "dave-pw-1").await;
    let p = api.project("p4").await;
    api.grant(&p, &dave, "member").await;
    let reader = api.role_id("reader").await;
    let secret_hash = virga_auth::hash_password("app-secret").unwrap().to_phc();
    let cred = application_credential::create(
        &api.db,
        NewApplicationCredential {
            user_id: dave.clone(),
            project_id: p.clone(),
            name: "ci".into(),
            secret_hash,
            role_ids: vec![reader.clone()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let login = |body: Value| async move {
        api.call(reqwest::Method::POST, "/v3/auth/tokens", None, Some(body))
            .await
    };
    let r = login(
        json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": cred.id, "secret": "app-secret"}}}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = &r.body["token"];
    assert_eq!(t["project"]["id"], p);
    assert_eq!(
        t["roles"],
        json!([{"id": reader, "name": "reader"}]),
        "the credential's subset"
    );
    assert_eq!(t["application_credential"]["id"], cred.id);
    assert_eq!(t["application_credential"]["restricted"], true);
    assert_eq!(t["methods"], json!(["application_credential"]));

    // By name and user; a wrong secret; another scope.
    let r = login(json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"name": "ci", "user": {"name": "dave", "domain": {"id": "default"}},
        "secret": "app-secret"}}}}))
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = login(
        json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": cred.id, "secret": "nope"}}}}),
    )
    .await;
    assert_unauthorized(&r, "wrong secret");
    let r = login(
        json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": cred.id, "secret": "app-secret"}},
        "scope": {"project": {"id": api.admin.admin_project_id}}}}),
    )
    .await;
    assert_unauthorized(&r, "an application credential cannot change scope");
}

async fn disabled_project_tokens_stop_working(api: &Api) {
    let erin = api.user("erin", "erin-pw-1").await;
    let p = api.project("p5").await;
    api.grant(&p, &erin, "member").await;
    let token = api.token("erin", "erin-pw-1", Some("p5")).await;
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 200);
    let r = api
        .patch(
            &format!("/v3/projects/{p}"),
            &api.admin_token,
            json!({"project": {"enabled": false}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["project"]["enabled"], false);
    assert_unauthorized(
        &api.get("/v3/auth/projects", &token).await,
        "disabled project",
    );
    assert_unauthorized(
        &api.login("erin", "erin-pw-1", Some("p5")).await,
        "login to it",
    );
}

async fn malformed_requests_name_the_field(api: &Api) {
    let post = |body: Value| async move {
        api.call(reqwest::Method::POST, "/v3/auth/tokens", None, Some(body))
            .await
    };
    let r = post(
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": "x", "colour": "red"}}}}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{}",
        r.body
    );
    let r = post(
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "password": "x"}}}}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("domain"),
        "{}",
        r.body
    );
    let r = post(json!({"auth": {"identity": {"methods": ["password", "token"]}}})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = post(
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "id": "x", "password": "x"}}}, "scope": {"project": {"id": "a"}, "domain": {"id": "b"}}}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["title"], "Bad Request");
}

async fn caller_scopes_and_catalog(api: &Api) {
    let frank = api.user("frank", "frank-pw-1").await;
    let p = api.project("p6").await;
    api.grant(&p, &frank, "reader").await;
    let unscoped = api.token("frank", "frank-pw-1", None).await;
    let r = api.get("/v3/auth/projects", &unscoped).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let names: Vec<&str> = r.body["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["p6"]);
    assert_eq!(r.body["projects"][0]["parent_id"], "default");
    assert_eq!(api.get("/v3/auth/catalog", &unscoped).await.status, 403);
    let scoped = api.token("frank", "frank-pw-1", Some("p6")).await;
    let r = api.get("/v3/auth/catalog", &scoped).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["catalog"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["type"] == "compute")
    );
    let r = api.get("/v3/auth/system", &scoped).await;
    assert_eq!(r.body["system"], json!([]));
    let r = api.get("/v3/auth/system", &api.admin_token).await;
    assert_eq!(r.body["system"], json!([{"all": true}]));

    // The JWKS every service verifies with; no token needed.
    let r = api
        .call(reqwest::Method::GET, "/v3/auth/jwks", None, None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["keys"].as_array().unwrap().len(),
        2,
        "current and next"
    );
    assert_eq!(r.body["keys"][0]["alg"], "EdDSA");
}
