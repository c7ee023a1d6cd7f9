//! The token body, Keystone's shape: what `POST` and `GET /v3/auth/tokens`
//! answer. Built from the token's claims; only the catalog, the user's
//! password expiry and the credential's name come from the database.

use chrono::DateTime;
use serde::Serialize;
use utoipa::ToSchema;
use virga_auth::{Scope, TokenClaims};
use virga_common::Error;

use crate::app::IdentityState;
use crate::app::catalog::{self, CatalogEntry};
use crate::db::{application_credential, user};

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: TokenView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub methods: Vec<String>,
    pub user: TokenUser,
    pub audit_ids: Vec<String>,
    pub expires_at: String,
    pub issued_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<TokenProject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_domain: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<Named>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemScope>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<Named>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<Vec<CatalogEntry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_credential: Option<TokenAppCred>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Named {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenUser {
    pub domain: Named,
    pub id: String,
    pub name: String,
    /// Absent for a federated user, who has no password here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_expires_at: Option<Option<String>>,
    #[serde(rename = "OS-FEDERATION", skip_serializing_if = "Option::is_none")]
    pub federation: Option<TokenFederation>,
}

/// How a federated user logged in (Keystone's `OS-FEDERATION` block).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenFederation {
    pub identity_provider: IdRef,
    pub protocol: IdRef,
    pub groups: Vec<IdRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdRef {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenProject {
    pub domain: Named,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SystemScope {
    pub all: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenAppCred {
    pub id: String,
    pub name: String,
    /// Whether the credential may not create other credentials or trusts.
    pub restricted: bool,
}

/// Keystone's timestamps: microseconds and a `Z`.
pub fn keystone_time(unix: u64) -> String {
    let t = i64::try_from(unix)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or_default();
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// What the caller already holds of the token's user and credential; what
/// is missing is read from the database.
#[derive(Default)]
pub struct Known<'a> {
    pub user: Option<&'a user::Model>,
    pub app_credential: Option<&'a application_credential::Model>,
}

pub async fn render(
    state: &IdentityState,
    claims: &TokenClaims,
    with_catalog: bool,
    known: Known<'_>,
) -> Result<TokenResponse, Error> {
    let db = state.ctx.db();
    let user = match known.user {
        Some(u) => Some(u.clone()),
        // The user may be gone since the token was issued; its expiry is then unknown.
        None => match user::get(db, &claims.sub).await {
            Ok(u) => Some(u),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        },
    };
    let password_expires_at = user
        .and_then(|u| u.password_expires_at)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string());
    let named = |n: &virga_auth::NamedRef| Named {
        id: n.id.clone(),
        name: n.name.clone(),
    };
    let mut view = TokenView {
        methods: claims.methods.clone(),
        user: TokenUser {
            domain: named(&claims.user_domain),
            id: claims.sub.clone(),
            name: claims.user_name.clone(),
            password_expires_at: claims.federation.is_none().then_some(password_expires_at),
            federation: claims.federation.as_ref().map(|f| TokenFederation {
                identity_provider: IdRef {
                    id: f.identity_provider.clone(),
                },
                protocol: IdRef {
                    id: f.protocol.clone(),
                },
                groups: f.groups.iter().map(|g| IdRef { id: g.clone() }).collect(),
            }),
        },
        audit_ids: claims.audit_ids.clone(),
        expires_at: keystone_time(claims.exp),
        issued_at: keystone_time(claims.iat),
        project: None,
        is_domain: None,
        domain: None,
        system: None,
        roles: None,
        catalog: None,
        application_credential: None,
    };
    match &claims.scope {
        Scope::Project { id, name, domain } => {
            view.project = Some(TokenProject {
                domain: named(domain),
                id: id.clone(),
                name: name.clone(),
            });
            view.is_domain = Some(false);
        }
        Scope::Domain { id, name } => {
            view.domain = Some(Named {
                id: id.clone(),
                name: name.clone(),
            })
        }
        Scope::System => view.system = Some(SystemScope { all: true }),
        Scope::Unscoped => {}
    }
    if claims.scope != Scope::Unscoped {
        view.roles = Some(claims.roles.iter().map(named).collect());
        if with_catalog {
            view.catalog = Some(catalog::build(db, claims.project_id()).await?);
        }
    }
    if let Some(id) = &claims.app_credential_id {
        let cred = match known.app_credential {
            Some(c) => c.clone(),
            None => application_credential::get(db, id).await?,
        };
        view.application_credential = Some(TokenAppCred {
            id: cred.id,
            name: cred.name,
            restricted: !cred.unrestricted,
        });
    }
    Ok(TokenResponse { token: view })
}
