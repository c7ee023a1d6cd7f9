//! Tests of the OpenID Connect provider: discovery names the loopback issuer,
//! the code flow with PKCE yields id_tokens that verify against the
//! provider's JWKS and carry the user's claims, public clients must use
//! PKCE, wrong passwords get no code, providers run side by side, and the
//! process ends with `stop`, with its test process, or at once on a bad start.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use virga_testkit::oidc::{AuthRequest, OidcClient, OidcConfig, OidcError, OidcProvider, OidcUser};

const WEB_CALLBACK: &str = "http://127.0.0.1:9/console/callback";
const CLI_CALLBACK: &str = "http://127.0.0.1:9/cli/callback";

fn alice() -> OidcUser {
    OidcUser {
        name: "Alice Liddell".to_owned(),
        preferred_username: "alice.l".to_owned(),
        ..OidcUser::new("alice", "wonderland").with_groups(&["admins", "ops"])
    }
}

fn web() -> OidcClient {
    // Characters that client_secret_basic must form-encode.
    OidcClient::confidential("console", "s3cret: a/b+c%d&e", WEB_CALLBACK)
}

fn cli() -> OidcClient {
    OidcClient::public("virga-cli", CLI_CALLBACK)
}

fn start() -> OidcProvider {
    let config = OidcConfig {
        port: None,
        clients: vec![web(), cli()],
        users: vec![alice(), OidcUser::new("bob", "builder")],
    };
    OidcProvider::start(config).unwrap_or_else(|e| panic!("{e}"))
}

async fn get_json(url: &str) -> Value {
    let response = reqwest::get(url).await.expect(url);
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.expect(url)
}

#[derive(Debug, Deserialize)]
struct IdToken {
    iss: String,
    sub: String,
    aud: String,
    nonce: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    name: Option<String>,
    preferred_username: Option<String>,
    groups: Option<Vec<String>>,
}

/// Verifies `token`'s RS256 signature with the key its `kid` names in the
/// provider's published JWKS, and its issuer and audience.
async fn verify(provider: &OidcProvider, token: &str, audience: &str) -> IdToken {
    let discovery = get_json(&provider.discovery_url()).await;
    let jwks: JwkSet =
        serde_json::from_value(get_json(discovery["jwks_uri"].as_str().unwrap()).await).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let jwk = jwks
        .find(header.kid.as_deref().expect("kid"))
        .expect("kid in JWKS");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[provider.issuer()]);
    validation.set_audience(&[audience]);
    let key = DecodingKey::from_jwk(jwk).unwrap();
    jsonwebtoken::decode::<IdToken>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("id_token does not verify: {e}"))
        .claims
}

#[tokio::test]
async fn discovery_names_the_loopback_issuer() {
    let provider = start();
    assert_eq!(
        provider.issuer(),
        format!("http://127.0.0.1:{}", provider.port())
    );
    let discovery = get_json(&provider.discovery_url()).await;
    assert_eq!(discovery["issuer"], provider.issuer());
    assert_eq!(discovery["jwks_uri"], format!("{}/jwks", provider.issuer()));
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    let scopes = discovery["scopes_supported"].as_array().unwrap();
    for scope in ["openid", "email", "profile", "groups"] {
        assert!(
            scopes.contains(&Value::from(scope)),
            "{scope} not in {scopes:?}"
        );
    }
}

#[tokio::test]
async fn code_flow_with_pkce_yields_a_verifiable_id_token_with_claims() {
    let provider = start();
    let client = web();
    // The relying party's side: its own state, nonce and PKCE pair.
    let request = AuthRequest::new(&client);
    let url = provider.authorization_url(&client.client_id, &request);
    // Log in by preferred_username; sub works too (see the CLI flow below).
    let code = provider
        .browser_login(&url, "alice.l", "wonderland")
        .await
        .unwrap();
    assert_eq!(code.state.as_deref(), Some(request.state.as_str()));
    assert_eq!(code.iss.as_deref(), Some(provider.issuer()));
    assert!(code.redirect.starts_with(WEB_CALLBACK), "{}", code.redirect);

    let tokens = provider
        .exchange_code(&client, &request, &code.code)
        .await
        .unwrap();
    let claims = verify(&provider, &tokens.id_token, "console").await;
    assert_eq!(claims.iss, provider.issuer());
    assert_eq!(
        (claims.sub.as_str(), claims.aud.as_str()),
        ("alice", "console")
    );
    assert_eq!(claims.nonce.as_deref(), Some(request.nonce.as_str()));
    assert_eq!(claims.email.as_deref(), Some("alice@example.test"));
    assert_eq!(claims.email_verified, Some(true));
    assert_eq!(claims.name.as_deref(), Some("Alice Liddell"));
    assert_eq!(claims.preferred_username.as_deref(), Some("alice.l"));
    assert_eq!(
        claims.groups,
        Some(vec!["admins".to_owned(), "ops".to_owned()])
    );
    assert!(!tokens.access_token.is_empty());

    // A code is good for one exchange only.
    let again = provider.exchange_code(&client, &request, &code.code).await;
    assert!(
        matches!(again, Err(OidcError::Flow(ref why)) if why.contains("invalid_grant")),
        "{again:?}"
    );
}

#[tokio::test]
async fn cli_flow_returns_tokens_whose_access_token_reaches_userinfo() {
    let provider = start();
    let bob = OidcUser::new("bob", "builder");
    let tokens = provider.login_tokens(&cli(), &bob).await.unwrap();
    let claims = verify(&provider, &tokens.id_token, "virga-cli").await;
    assert_eq!(claims.sub, "bob");
    assert_eq!(claims.email.as_deref(), Some("bob@example.test"));
    assert_eq!(claims.groups, Some(Vec::new()));

    let userinfo = reqwest::Client::new()
        .get(format!("{}/me", provider.issuer()))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    assert!(userinfo.status().is_success(), "{}", userinfo.status());
    let userinfo: Value = userinfo.json().await.unwrap();
    assert_eq!(userinfo["sub"], "bob");
}

#[tokio::test]
async fn public_clients_must_use_pkce() {
    let provider = start();
    let client = cli();
    let mut url = reqwest::Url::parse(
        &provider.authorization_url(&client.client_id, &AuthRequest::new(&client)),
    )
    .unwrap();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept);
    let refused = provider.browser_login(url.as_str(), "bob", "builder").await;
    assert!(
        matches!(refused, Err(OidcError::Authorization { ref error, .. }) if error == "invalid_request"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_wrong_password_gets_no_code() {
    let provider = start();
    let client = web();
    let url = provider.authorization_url(&client.client_id, &AuthRequest::new(&client));
    let refused = provider.browser_login(&url, "alice", "looking-glass").await;
    assert!(
        matches!(refused, Err(OidcError::LoginRefused { ref login }) if login == "alice"),
        "{refused:?}"
    );
    let unknown = provider.browser_login(&url, "mallory", "wonderland").await;
    assert!(
        matches!(unknown, Err(OidcError::LoginRefused { .. })),
        "{unknown:?}"
    );
    // The same request goes through with the right password.
    provider
        .browser_login(&url, "alice", "wonderland")
        .await
        .unwrap();
}

#[tokio::test]
async fn two_providers_run_side_by_side_with_their_own_keys() {
    let (a, b) = (start(), start());
    assert_ne!(a.port(), b.port());
    let tokens = a.login_tokens(&web(), &alice()).await.unwrap();
    assert_eq!(verify(&a, &tokens.id_token, "console").await.sub, "alice");
    // b's JWKS holds b's key only: a's token does not verify there.
    let jwks: JwkSet =
        serde_json::from_value(get_json(&format!("{}/jwks", b.issuer())).await).unwrap();
    let kid = jsonwebtoken::decode_header(&tokens.id_token)
        .unwrap()
        .kid
        .unwrap();
    assert!(jwks.find(&kid).is_none());
    assert_eq!(
        verify(
            &b,
            &b.login_tokens(&web(), &alice()).await.unwrap().id_token,
            "console"
        )
        .await
        .sub,
        "alice"
    );
}

#[test]
fn stop_ends_the_process_and_closes_the_port() {
    let mut provider = start();
    let pid = provider.pid().expect("running");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], provider.port()));
    assert!(std::net::TcpStream::connect(addr).is_ok());
    provider.stop().unwrap();
    assert!(provider.pid().is_none());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} still exists"
    );
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "port {} still open",
        provider.port()
    );
    provider.stop().unwrap();
}

#[test]
fn a_taken_port_is_a_start_error_with_the_providers_output() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = OidcProvider::start(OidcConfig {
        port: Some(port),
        ..OidcConfig::default()
    })
    .unwrap_err();
    assert!(
        matches!(err, OidcError::Start { ref log, .. } if log.contains("EADDRINUSE")),
        "{err}"
    );
}

const HOLDER: &str = "VIRGA_TESTKIT_OIDC_HOLDER";

/// The body of `the_provider_dies_with_its_test_process`, run by it in a
/// child process; on its own it does nothing.
#[test]
#[ignore = "run by the_provider_dies_with_its_test_process"]
fn hold_a_provider_until_killed() {
    if std::env::var_os(HOLDER).is_none() {
        return;
    }
    let provider = start();
    println!("holding pid {}", provider.pid().expect("running"));
    std::thread::sleep(std::time::Duration::from_secs(60));
}

#[test]
fn the_provider_dies_with_its_test_process() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};

    let exe = std::env::current_exe().unwrap();
    let mut holder = std::process::Command::new(exe)
        .args([
            "--exact",
            "hold_a_provider_until_killed",
            "--ignored",
            "--nocapture",
        ])
        .env(HOLDER, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    let pid = lines
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("holding pid ").map(str::to_owned))
        .expect("the holder started a provider");
    // SIGKILL: no Drop runs, only the kernel closing the holder's pipes.
    holder.kill().unwrap();
    holder.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let alive = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    };
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(), "node {pid} outlived its test process");
}
