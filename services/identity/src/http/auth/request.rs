//! The body of `POST /v3/auth/tokens`, Keystone's shape, and its
//! translation into the app's [`Method`] and [`ScopeRequest`]. Unknown
//! fields are refused with the field named; so is a method named in
//! `methods` without its section, or a section without its method.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use virga_common::Error;

use crate::app::auth::scope::ProjectLocator;
use crate::app::auth::{CredentialLocator, DomainLocator, Method, ScopeRequest, UserLocator};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthRequest {
    pub auth: AuthBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthBody {
    pub identity: IdentityBody,
    /// `{"project": ...}`, `{"domain": ...}`, `{"system": {"all": true}}` or `"unscoped"`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub scope: Option<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityBody {
    pub methods: Vec<String>,
    #[serde(default)]
    pub password: Option<PasswordBody>,
    #[serde(default)]
    pub token: Option<TokenBody>,
    #[serde(default)]
    pub application_credential: Option<AppCredBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub user: PasswordUser,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordUser {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub domain: Option<RefBody>,
    pub password: String,
}

/// A domain by id or name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefBody {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppCredBody {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub user: Option<UserBody>,
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub domain: Option<RefBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeBody {
    #[serde(default)]
    project: Option<ProjectBody>,
    #[serde(default)]
    domain: Option<RefBody>,
    #[serde(default)]
    system: Option<SystemBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectBody {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    domain: Option<RefBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemBody {
    all: bool,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadRequest(msg.into())
}

impl IdentityBody {
    /// The one method asked for; Virga has no multi-factor methods, so a
    /// request naming several is refused rather than half-honoured.
    pub fn into_method(self) -> Result<Method, Error> {
        let [name] = self.methods.as_slice() else {
            return Err(bad(
                "Invalid input for field 'identity/methods': exactly one method is supported.",
            ));
        };
        let missing = |m: &str| bad(format!("Expecting to find {m} in identity."));
        match name.as_str() {
            "password" => {
                let user = self.password.ok_or_else(|| missing("password"))?.user;
                Ok(Method::Password {
                    user: user_locator(user.id, user.name, user.domain, "password/user")?,
                    password: user.password,
                })
            }
            "token" => Ok(Method::Token {
                id: self.token.ok_or_else(|| missing("token"))?.id,
            }),
            "application_credential" => {
                let c = self
                    .application_credential
                    .ok_or_else(|| missing("application_credential"))?;
                let credential = match (c.id, c.name, c.user) {
                    (Some(id), _, _) => CredentialLocator::Id(id),
                    (None, Some(name), Some(u)) => CredentialLocator::Name {
                        name,
                        user: user_locator(u.id, u.name, u.domain, "application_credential/user")?,
                    },
                    _ => {
                        return Err(bad(
                            "Invalid input for field 'identity/application_credential': an id, or a name and a user, is required.",
                        ));
                    }
                };
                Ok(Method::ApplicationCredential {
                    credential,
                    secret: c.secret,
                })
            }
            other => Err(bad(format!(
                "Invalid input for field 'identity/methods': unsupported method {other}."
            ))),
        }
    }
}

fn user_locator(
    id: Option<String>,
    name: Option<String>,
    domain: Option<RefBody>,
    field: &str,
) -> Result<UserLocator, Error> {
    match (id, name) {
        (Some(id), _) => Ok(UserLocator::Id(id)),
        (None, Some(name)) => {
            let domain =
                domain.ok_or_else(|| bad(format!("Expecting to find domain in {field}.")))?;
            Ok(UserLocator::Name {
                name,
                domain: domain_locator(domain, &format!("{field}/domain"))?,
            })
        }
        (None, None) => Err(bad(format!(
            "Invalid input for field '{field}': an id or a name is required."
        ))),
    }
}

fn domain_locator(d: RefBody, field: &str) -> Result<DomainLocator, Error> {
    match (d.id, d.name) {
        (Some(id), _) => Ok(DomainLocator::Id(id)),
        (None, Some(name)) => Ok(DomainLocator::Name(name)),
        (None, None) => Err(bad(format!(
            "Invalid input for field '{field}': an id or a name is required."
        ))),
    }
}

/// Reads `auth.scope`.
pub fn scope_request(scope: Option<Value>) -> Result<ScopeRequest, Error> {
    let Some(scope) = scope else {
        return Ok(ScopeRequest::Default);
    };
    if scope.as_str() == Some("unscoped") {
        return Ok(ScopeRequest::Unscoped);
    }
    let body: ScopeBody = serde_json::from_value(scope)
        .map_err(|e| bad(format!("Invalid input for field 'scope': {e}.")))?;
    match (body.project, body.domain, body.system) {
        (Some(p), None, None) => {
            let locator = match (p.id, p.name) {
                (Some(id), _) => ProjectLocator::Id(id),
                (None, Some(name)) => ProjectLocator::Name {
                    name,
                    domain: domain_locator(
                        p.domain
                            .ok_or_else(|| bad("Expecting to find domain in scope/project."))?,
                        "scope/project/domain",
                    )?,
                },
                (None, None) => {
                    return Err(bad(
                        "Invalid input for field 'scope/project': an id or a name is required.",
                    ));
                }
            };
            Ok(ScopeRequest::Project(locator))
        }
        (None, Some(d), None) => Ok(ScopeRequest::Domain(domain_locator(d, "scope/domain")?)),
        (None, None, Some(SystemBody { all: true })) => Ok(ScopeRequest::System),
        (None, None, Some(_)) => Err(bad(
            "Invalid input for field 'scope/system': only {\"all\": true} exists.",
        )),
        _ => Err(bad(
            "Invalid input for field 'scope': exactly one of project, domain or system is required.",
        )),
    }
}
