//! Owns the browser side of the authorization-code flow: a cookie-keeping
//! client that walks the provider's redirects and login form and stops at
//! the redirect back to the client.

use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode, Url};

use super::{HTTP_TIMEOUT, OidcError, http};

/// The provider needs about six hops (auth, interaction, login, auth,
/// consent, auth); more means something loops.
const MAX_HOPS: usize = 20;

/// What the provider sent back to the client's redirect URI.
#[derive(Clone, Debug)]
pub struct AuthCode {
    pub code: String,
    pub state: Option<String>,
    /// The `iss` parameter (RFC 9207), for mix-up checks.
    pub iss: Option<String>,
    /// The full redirect URL, to hand to a relying party's callback as is.
    pub redirect: String,
}

enum Step {
    Get(Url),
    PostLogin(Url),
}

pub(super) async fn login(
    issuer: &str,
    start: &str,
    login: &str,
    password: &str,
) -> Result<AuthCode, OidcError> {
    // A fresh cookie jar per login, like a fresh browser: no session left
    // over from another user's login.
    let browser = Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(http("build the browser's HTTP client"))?;
    let start = Url::parse(start)
        .map_err(|e| OidcError::Flow(format!("authorization URL {start:?}: {e}")))?;
    let ours = format!("{issuer}/");
    let mut step = Step::Get(start);
    let mut posted = false;
    for _ in 0..MAX_HOPS {
        let response = match step {
            Step::Get(url) => browser.get(url).send().await,
            Step::PostLogin(url) => {
                let form = [("login", login), ("password", password)];
                browser.post(url).form(&form).send().await
            }
        }
        .map_err(http("browser request"))?;
        let url = response.url().clone();
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| OidcError::Flow(format!("{status} without Location from {url}")))?;
            let target = url
                .join(location)
                .map_err(|e| OidcError::Flow(format!("Location {location:?} from {url}: {e}")))?;
            // Leaving the provider means arriving at the client: stop there,
            // the relying party under test handles that request.
            if !target.as_str().starts_with(&ours) {
                return redirected(target);
            }
            step = Step::Get(target);
            continue;
        }
        let body = response.text().await.map_err(http("read a page"))?;
        match form_action(&body) {
            // The form again after posting it: the password was refused.
            Some(_) if posted => {
                return Err(OidcError::LoginRefused {
                    login: login.to_owned(),
                });
            }
            Some(action) if status == StatusCode::OK => {
                let target = url
                    .join(action)
                    .map_err(|e| OidcError::Flow(format!("form action {action:?}: {e}")))?;
                step = Step::PostLogin(target);
                posted = true;
            }
            _ => {
                return Err(OidcError::Flow(format!(
                    "{status} from {url}: {}",
                    body.chars().take(500).collect::<String>()
                )));
            }
        }
    }
    Err(OidcError::Flow(format!("more than {MAX_HOPS} hops")))
}

/// The login form's `action`, if `page` has one.
fn form_action(page: &str) -> Option<&str> {
    let form = &page[page.find("<form")?..];
    let action = &form[form.find("action=\"")? + "action=\"".len()..];
    Some(&action[..action.find('"')?])
}

fn redirected(target: Url) -> Result<AuthCode, OidcError> {
    let param = |name: &str| {
        target
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        return Err(OidcError::Authorization {
            error,
            description: param("error_description").unwrap_or_default(),
        });
    }
    let Some(code) = param("code") else {
        return Err(OidcError::Flow(format!(
            "redirected to {target} without a code"
        )));
    };
    Ok(AuthCode {
        code,
        state: param("state"),
        iss: param("iss"),
        redirect: target.into(),
    })
}
