//! Owns the public OpenID Connect provider API: the config handed to the
//! node `oidc-provider` process (clients, users), the running provider, and
//! the errors of starting it and of logging in through it.

mod browser;
mod node;
mod request;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

pub use browser::AuthCode;
use node::Node;
pub use request::{AuthRequest, Pkce, Tokens};

/// The scopes `AuthRequest::new` asks for; each releases the claims of the
/// same name (`email`, `profile`: name and preferred_username, `groups`).
pub const SCOPES: &str = "openid email profile groups";

/// What the provider knows: its clients and its users.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OidcConfig {
    /// The port to listen on; `None` lets the kernel pick a free one.
    pub port: Option<u16>,
    pub clients: Vec<OidcClient>,
    pub users: Vec<OidcUser>,
}

/// A client (relying party), as OAuth client metadata.
#[derive(Clone, Debug, Serialize)]
pub struct OidcClient {
    pub client_id: String,
    /// `None` for a public client, which must then use PKCE.
    pub client_secret: Option<String>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    /// `client_secret_basic`, `client_secret_post` or `none`.
    pub token_endpoint_auth_method: String,
    /// `web` (the provider's default) or `native`, whose loopback redirect
    /// URIs match on any port (RFC 8252).
    pub application_type: Option<String>,
}

impl OidcClient {
    /// A confidential web client authenticating with HTTP Basic.
    pub fn confidential(client_id: &str, client_secret: &str, redirect_uri: &str) -> OidcClient {
        OidcClient {
            client_id: client_id.to_owned(),
            client_secret: Some(client_secret.to_owned()),
            redirect_uris: vec![redirect_uri.to_owned()],
            grant_types: vec!["authorization_code".to_owned()],
            token_endpoint_auth_method: "client_secret_basic".to_owned(),
            application_type: None,
        }
    }

    /// A public client (a browser app or a CLI) with no secret.
    pub fn public(client_id: &str, redirect_uri: &str) -> OidcClient {
        OidcClient {
            client_secret: None,
            token_endpoint_auth_method: "none".to_owned(),
            ..OidcClient::confidential(client_id, "", redirect_uri)
        }
    }
}

/// A user who can log in with `sub` (or `preferred_username`) and `password`.
#[derive(Clone, Debug, Serialize)]
pub struct OidcUser {
    pub sub: String,
    pub password: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub preferred_username: String,
    pub groups: Vec<String>,
}

impl OidcUser {
    /// A user whose other claims derive from `sub`: `<sub>@example.test`,
    /// name and preferred_username `sub`, no groups.
    pub fn new(sub: &str, password: &str) -> OidcUser {
        OidcUser {
            sub: sub.to_owned(),
            password: password.to_owned(),
            email: format!("{sub}@example.test"),
            email_verified: true,
            name: sub.to_owned(),
            preferred_username: sub.to_owned(),
            groups: Vec::new(),
        }
    }

    pub fn with_groups(mut self, groups: &[&str]) -> OidcUser {
        self.groups = groups.iter().map(|g| (*g).to_owned()).collect();
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error(
        "testkit: oidc-provider is not installed in {}: run `npm ci --prefix crates/testkit/oidc-provider` from the workspace root",
        dir.display()
    )]
    NotInstalled { dir: PathBuf },
    #[error("testkit: oidc-provider did not start: {why}\n--- its output ---\n{log}")]
    Start { why: String, log: String },
    #[error("testkit: stopping oidc-provider: {0}")]
    Stop(String),
    /// The login form came back instead of a redirect: wrong password or user.
    #[error("testkit: oidc-provider refused the login of {login:?}")]
    LoginRefused { login: String },
    /// The provider redirected to the client with `error=...`.
    #[error("testkit: authorization failed: {error}: {description}")]
    Authorization { error: String, description: String },
    #[error("testkit: {what}: {error}")]
    Http { what: String, error: reqwest::Error },
    /// Anything else unexpected in the flow, with what the provider said.
    #[error("testkit: {0}")]
    Flow(String),
}

/// Bounds each request to the provider: on loopback a slow answer is a
/// wedged provider, and the test should say so rather than hang.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

fn http(what: &str) -> impl FnOnce(reqwest::Error) -> OidcError + '_ {
    move |error| OidcError::Http {
        what: what.to_owned(),
        error,
    }
}

/// A running `oidc-provider` on `http://127.0.0.1:<port>`, owned by this
/// test process: dropping it (or the process dying) stops it.
#[derive(Debug)]
pub struct OidcProvider {
    node: Node,
    issuer: String,
    port: u16,
}

impl OidcProvider {
    /// Starts a provider and waits until it listens. Its RS256 signing key
    /// is generated now, so every provider has its own.
    pub fn start(config: OidcConfig) -> Result<OidcProvider, OidcError> {
        let json = serde_json::to_string(&config).expect("config serializes");
        let (node, port) = Node::spawn(&json)?;
        Ok(OidcProvider {
            node,
            issuer: format!("http://127.0.0.1:{port}"),
            port,
        })
    }

    /// `http://127.0.0.1:<port>`, exactly as in the tokens' `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }

    /// The node process's pid, until `stop`.
    pub fn pid(&self) -> Option<u32> {
        self.node.pid()
    }

    /// The provider's recent output (stdout and stderr), for diagnostics.
    pub fn log(&self) -> String {
        self.node.log()
    }

    /// Stops the process and waits for it to exit; a no-op once stopped.
    pub fn stop(&mut self) -> Result<(), OidcError> {
        self.node.stop()
    }

    /// The authorization endpoint URL for `request`, as a relying party
    /// would build it (response_type=code, PKCE S256).
    pub fn authorization_url(&self, client_id: &str, request: &AuthRequest) -> String {
        request.url(&self.issuer, client_id)
    }

    /// Plays the browser from `authorization_url` (built by the relying
    /// party under test, or by `authorization_url`) through the login form
    /// to the redirect back to the client, which it does not follow.
    pub async fn browser_login(
        &self,
        authorization_url: &str,
        login: &str,
        password: &str,
    ) -> Result<AuthCode, OidcError> {
        browser::login(&self.issuer, authorization_url, login, password).await
    }

    /// Exchanges `code` at the token endpoint, authenticating as `client`.
    pub async fn exchange_code(
        &self,
        client: &OidcClient,
        request: &AuthRequest,
        code: &str,
    ) -> Result<Tokens, OidcError> {
        request::exchange(&self.issuer, client, request, code).await
    }

    /// The whole CLI-style flow for `user` through `client`: authorization
    /// code with PKCE, then the code exchange. Asks for `SCOPES`.
    pub async fn login_tokens(
        &self,
        client: &OidcClient,
        user: &OidcUser,
    ) -> Result<Tokens, OidcError> {
        let request = AuthRequest::new(client);
        let url = self.authorization_url(&client.client_id, &request);
        let code = self.browser_login(&url, &user.sub, &user.password).await?;
        if code.state.as_deref() != Some(request.state.as_str()) {
            return Err(OidcError::Flow(format!(
                "state came back as {:?}, sent {:?}",
                code.state, request.state
            )));
        }
        self.exchange_code(client, &request, &code.code).await
    }
}
