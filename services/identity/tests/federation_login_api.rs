//! Logging in through a real OpenID Connect provider (`oidc-provider`,
//! started by the test kit): the CLI's bearer exchange with an access token
//! or an id_token, rescoping, shadow and local users, mapped groups, the
//! refusals, what disabling and deleting a provider ends; and the
//! browser's single sign-on with PKCE, posting the token to the console.

#[macro_use]
mod common;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use virga_testkit::oidc::{OidcClient, OidcConfig, OidcProvider, OidcUser, Tokens};

use common::api::{Api, Reply};

api_on_both!(cli_login);

const SECRET: &str = "virga-client-secret";
const CALLBACK: &str = "/v3/auth/OS-VIRGA/websso/callback";
const CONSOLE: &str = "http://console.test/auth/websso/";

fn users() -> Vec<OidcUser> {
    vec![
        OidcUser::new("alice", "alice-pw").with_groups(&["devs", "finance"]),
        OidcUser::new("bob", "bob-pw"),
        OidcUser::new("carol", "carol-pw"),
        OidcUser::new("mallory", "mallory-pw"),
        OidcUser::new("dave", "dave-pw").with_groups(&["devs"]),
    ]
}

fn user(name: &str) -> OidcUser {
    users().into_iter().find(|u| u.sub == name).unwrap()
}

fn virga_client(api: &Api) -> OidcClient {
    OidcClient::confidential("virga", SECRET, &format!("{}{CALLBACK}", api.url))
}

fn other_client() -> OidcClient {
    OidcClient::public("other-app", "http://127.0.0.1:9/cb")
}

/// The provider, and in identity: the `corp` provider for it, a mapping,
/// the `openid` protocol, group `devs` with `member` on project `p1`.
async fn setup(api: &Api) -> (OidcProvider, String) {
    let provider = OidcProvider::start(OidcConfig {
        port: None,
        clients: vec![virga_client(api), other_client()],
        users: users(),
    })
    .unwrap();
    let put = |path: &str, body: Value| {
        let path = path.to_owned();
        async move {
            let r = api
                .call(Method::PUT, &path, Some(&api.admin_token), Some(body))
                .await;
            assert_eq!(r.status, 201, "{path}: {}", r.body);
        }
    };
    put(
        "/v3/OS-FEDERATION/identity_providers/corp",
        json!({"identity_provider": {"domain_id": "default", "enabled": true,
            "oidc": {"issuer": provider.issuer(), "client_id": "virga", "client_secret": SECRET,
                "scopes": ["openid", "email", "profile", "groups"]}}}),
    )
    .await;
    let rules = json!([
        {"local": [{"user": {"id": "{0}", "name": "{1}"}},
                   {"groups": "{2}", "domain": {"id": "default"}}],
         "remote": [{"type": "sub"}, {"type": "preferred_username"}, {"type": "groups"}]},
        {"local": [{"user": {"id": "{0}", "name": "{1}"}}],
         "remote": [{"type": "sub"}, {"type": "preferred_username"},
                    {"type": "sub", "not_any_of": ["carol", "mallory"]}]},
        {"local": [{"user": {"name": "{0}", "domain": {"id": "default"}, "type": "local"}}],
         "remote": [{"type": "preferred_username"}, {"type": "sub", "any_one_of": ["carol"]}]}
    ]);
    put(
        "/v3/OS-FEDERATION/mappings/corp-map",
        json!({"mapping": {"rules": rules}}),
    )
    .await;
    put(
        "/v3/OS-FEDERATION/identity_providers/corp/protocols/openid",
        json!({"protocol": {"mapping_id": "corp-map"}}),
    )
    .await;
    let r = api
        .post(
            "/v3/groups",
            &api.admin_token,
            json!({"group": {"name": "devs"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let devs = r.body["group"]["id"].as_str().unwrap().to_string();
    let p1 = api.project("p1").await;
    let member = api.role_id("member").await;
    let r = api
        .put(
            &format!("/v3/projects/{p1}/groups/{devs}/roles/{member}"),
            &api.admin_token,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    (provider, devs)
}

async fn exchange(api: &Api, idp: &str, bearer: Option<&str>) -> Reply {
    let url = format!(
        "{}/v3/OS-FEDERATION/identity_providers/{idp}/protocols/openid/auth",
        api.url
    );
    let mut req = api.client.post(url);
    if let Some(b) = bearer {
        req = req.header(AUTHORIZATION, format!("Bearer {b}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        body,
        headers,
    }
}

fn subject(r: &Reply) -> String {
    r.headers["x-subject-token"].to_str().unwrap().to_string()
}

async fn tokens(provider: &OidcProvider, client: &OidcClient, who: &str) -> Tokens {
    provider.login_tokens(client, &user(who)).await.unwrap()
}

async fn rescope(api: &Api, token: &str, project: &str) -> Reply {
    let body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": token}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}});
    api.call(Method::POST, "/v3/auth/tokens", None, Some(body))
        .await
}

fn assert_refused(r: &Reply) {
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(
        r.body["error"]["message"], "The request you have made requires authentication.",
        "{}",
        r.body
    );
}

async fn cli_login(api: &Api) {
    let (provider, devs) = setup(api).await;
    let client = virga_client(api);

    // An access token, checked at the provider's userinfo endpoint.
    let alice = tokens(&provider, &client, "alice").await;
    let r = exchange(api, "corp", Some(&alice.access_token)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = &r.body["token"];
    assert_eq!(t["methods"], json!(["openid"]));
    assert_eq!(t["user"]["name"], "alice");
    assert_eq!(
        t["user"]["domain"],
        json!({"id": "default", "name": "Default"})
    );
    assert_eq!(
        t["user"]["OS-FEDERATION"],
        json!({"identity_provider": {"id": "corp"}, "protocol": {"id": "openid"},
            "groups": [{"id": devs}]})
    );
    assert!(t["user"].get("password_expires_at").is_none(), "{t}");
    assert!(
        t.get("roles").is_none() && t.get("catalog").is_none(),
        "{t}"
    );
    let alice_id = t["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(alice_id.len(), 64, "a sha256 shadow id");

    // Rescoped to the project its mapped group has a role on.
    let r = rescope(api, &subject(&r), "p1").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let roles: Vec<_> = r.body["token"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert!(roles.contains(&json!("member")), "{roles:?}");
    assert_eq!(
        r.body["token"]["user"]["OS-FEDERATION"]["identity_provider"]["id"],
        "corp"
    );
    let alice_scoped = subject(&r);

    // The id_token works too, and is the same user: one shadow user only.
    let r = exchange(api, "corp", Some(&alice.id_token)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["token"]["user"]["id"], alice_id.as_str());
    let r = api.get("/v3/users?name=alice", &api.admin_token).await;
    assert_eq!(r.body["users"].as_array().unwrap().len(), 1, "{}", r.body);
    let r = api
        .get(&format!("/v3/users/{alice_id}/groups"), &api.admin_token)
        .await;
    assert_eq!(r.body["groups"][0]["id"], devs.as_str(), "{}", r.body);

    // No groups: a user, but no role anywhere.
    let bob = tokens(&provider, &client, "bob").await;
    let r = exchange(api, "corp", Some(&bob.access_token)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["token"]["user"]["OS-FEDERATION"]["groups"],
        json!([])
    );
    assert_refused(&rescope(api, &subject(&r), "p1").await);

    // `type: local` maps onto an existing user, with no OS-FEDERATION block.
    let carol_id = api.user("carol", "carol-local-pw").await;
    let carol = tokens(&provider, &client, "carol").await;
    let r = exchange(api, "corp", Some(&carol.id_token)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["token"]["user"]["id"], carol_id.as_str());
    assert!(
        r.body["token"]["user"].get("OS-FEDERATION").is_none(),
        "{}",
        r.body
    );

    // Refusals: unmapped, forged, foreign, garbage, missing.
    let mallory = tokens(&provider, &client, "mallory").await;
    assert_refused(&exchange(api, "corp", Some(&mallory.access_token)).await);
    // A signature byte changed (not the last character, whose low bits
    // base64 does not use).
    let mut forged: Vec<char> = alice.id_token.chars().collect();
    let i = forged.len() - 10;
    forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    assert_refused(&exchange(api, "corp", Some(&forged)).await);
    let foreign = tokens(&provider, &other_client(), "alice").await;
    assert_refused(&exchange(api, "corp", Some(&foreign.id_token)).await);
    assert_refused(&exchange(api, "corp", Some("not-a-token")).await);
    assert_refused(&exchange(api, "corp", None).await);
    let r = exchange(api, "nobody", Some(&alice.access_token)).await;
    assert_eq!(r.status, 404, "{}", r.body);

    // A provider's user cannot take over a local user's name.
    api.user("dave", "dave-local-pw").await;
    let dave = tokens(&provider, &client, "dave").await;
    let r = exchange(api, "corp", Some(&dave.access_token)).await;
    assert_eq!(r.status, 409, "{}", r.body);

    // Disabling the provider refuses logins and ends its users' tokens.
    let idp = "/v3/OS-FEDERATION/identity_providers/corp";
    let r = api
        .patch(
            idp,
            &api.admin_token,
            json!({"identity_provider": {"enabled": false}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = exchange(api, "corp", Some(&alice.id_token)).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let check = api
        .client
        .get(format!("{}/v3/auth/tokens", api.url))
        .header("X-Auth-Token", &api.admin_token)
        .header("X-Subject-Token", &alice_scoped)
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 404);

    // Deleting it deletes the users it provisioned, not the local ones.
    let r = api.delete(idp, &api.admin_token).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = api
        .get(&format!("/v3/users/{alice_id}"), &api.admin_token)
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = api
        .get(&format!("/v3/users/{carol_id}"), &api.admin_token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn browser_login_sqlite() {
    let dashboards = format!("[\"{CONSOLE}\"]");
    let api = Api::start(None, &[("VIRGA_AUTH__TRUSTED_DASHBOARDS", &dashboards)]).await;
    browser_login(&api).await;
    api.stop().await;
}

#[tokio::test]
async fn browser_login_postgres() {
    let dashboards = format!("[\"{CONSOLE}\"]");
    let url = virga_testkit::postgres::shared().fresh_database();
    let api = Api::start(
        Some(url),
        &[("VIRGA_AUTH__TRUSTED_DASHBOARDS", &dashboards)],
    )
    .await;
    browser_login(&api).await;
    api.stop().await;
}

/// A browser: no redirects followed, cookies handled by hand.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn begin(api: &Api, origin: Option<&str>) -> reqwest::Response {
    let mut url = reqwest::Url::parse(&format!(
        "{}/v3/auth/OS-FEDERATION/identity_providers/corp/protocols/openid/websso",
        api.url
    ))
    .unwrap();
    if let Some(o) = origin {
        url.query_pairs_mut().append_pair("origin", o);
    }
    browser().get(url).send().await.unwrap()
}

/// Begins a login, logs in at the provider; the callback URL and cookie.
async fn to_callback(api: &Api, provider: &OidcProvider, who: &str) -> (String, String) {
    let resp = begin(api, Some(CONSOLE)).await;
    assert_eq!(resp.status(), 302);
    let location = resp.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(location.starts_with(provider.issuer()), "{location}");
    assert!(
        location.contains("code_challenge_method=S256"),
        "{location}"
    );
    let set = resp.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    let u = user(who);
    let code = provider
        .browser_login(&location, &u.sub, &u.password)
        .await
        .unwrap();
    assert!(
        code.redirect.starts_with(&format!("{}{CALLBACK}", api.url)),
        "{}",
        code.redirect
    );
    (code.redirect, cookie)
}

async fn callback(url: &str, cookie: Option<&str>) -> (u16, String) {
    let mut req = browser().get(url);
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn browser_login(api: &Api) {
    let (provider, devs) = setup(api).await;

    let r = begin(api, None).await;
    assert_eq!(r.status(), 400);
    let r = begin(api, Some("https://evil.example/steal")).await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(
        body.to_string().contains("is not a trusted dashboard host"),
        "{body}"
    );

    let (url, cookie) = to_callback(api, &provider, "alice").await;
    let (status, html) = callback(&url, Some(&cookie)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&format!("action=\"{CONSOLE}\"")), "{html}");
    let token = html
        .split("name=\"token\" id=\"token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let shown = api
        .client
        .get(format!("{}/v3/auth/tokens", api.url))
        .header("X-Auth-Token", &api.admin_token)
        .header("X-Subject-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    let shown: Value = shown.json().await.unwrap();
    assert_eq!(shown["token"]["user"]["name"], "alice");
    assert_eq!(
        shown["token"]["user"]["OS-FEDERATION"]["groups"],
        json!([{"id": devs}])
    );
    assert_eq!(rescope(api, &token, "p1").await.status, 201);

    // The same callback again: the state is spent.
    let (status, _) = callback(&url, Some(&cookie)).await;
    assert_eq!(status, 401);

    // Another browser cannot finish this browser's login (login CSRF),
    // and that attempt does not spend it.
    let (url, cookie) = to_callback(api, &provider, "bob").await;
    assert_eq!(callback(&url, None).await.0, 401);
    assert_eq!(callback(&url, Some("virga_sso_state=forged")).await.0, 401);
    assert_eq!(callback(&url, Some(&cookie)).await.0, 200);

    // The provider reporting an error ends the login.
    let resp = begin(api, Some(CONSOLE)).await;
    let location = resp.headers()[LOCATION].to_str().unwrap().to_string();
    let cookie = resp.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let state = reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    let denied = format!("{}{CALLBACK}?state={state}&error=access_denied", api.url);
    assert_eq!(callback(&denied, Some(&cookie)).await.0, 401);
}
