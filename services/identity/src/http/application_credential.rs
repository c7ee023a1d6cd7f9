//! `/v3/users/{user_id}/application_credentials`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_service::auth::Auth;

use super::{CollectionLinks, SelfLink, v3_base};
use crate::app::IdentityState;
use crate::app::application_credential::{self as app, CreateRequest, RoleRef};
use crate::db::{application_credential, role};

/// A role as Keystone shows it inside an application credential.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialRoleView {
    pub id: String,
    pub name: String,
    pub domain_id: Option<String>,
    pub description: Option<String>,
    pub options: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationCredentialView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub user_id: String,
    pub project_id: String,
    /// Always null: credentials are project-scoped.
    pub system: Option<String>,
    pub roles: Vec<CredentialRoleView>,
    /// `2026-01-15T22:14:05.000000`, no zone, as Keystone shows entity times.
    pub expires_at: Option<String>,
    pub unrestricted: bool,
    /// Only in the create response: the secret is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub links: SelfLink,
}

impl ApplicationCredentialView {
    fn new(c: application_credential::Model, roles: Vec<role::Model>, base: &str) -> Self {
        ApplicationCredentialView {
            links: SelfLink::to(
                base,
                &format!("users/{}/application_credentials/{}", c.user_id, c.id),
            ),
            id: c.id,
            name: c.name,
            description: c.description,
            user_id: c.user_id,
            project_id: c.project_id,
            system: None,
            roles: roles
                .into_iter()
                .map(|r| CredentialRoleView {
                    id: r.id,
                    name: r.name,
                    domain_id: r.domain_id,
                    description: r.description,
                    options: Default::default(),
                })
                .collect(),
            expires_at: c
                .expires_at
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()),
            unrestricted: c.unrestricted,
            secret: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationCredentialResponse {
    pub application_credential: ApplicationCredentialView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationCredentialsResponse {
    pub application_credentials: Vec<ApplicationCredentialView>,
    pub links: CollectionLinks,
}

/// A role by id or by name, exactly one of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleSelector {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// openstackclient sends `null` for the optional fields and `[]` for
/// roles and access rules: both mean "not given".
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationCredentialCreate {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Generated when null or absent.
    #[serde(default)]
    pub secret: Option<String>,
    /// ISO 8601; UTC when it names no zone.
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub unrestricted: Option<bool>,
    /// A subset of the token's roles; empty or absent: all of them.
    #[serde(default)]
    pub roles: Option<Vec<RoleSelector>>,
    /// Not supported: only an empty list is accepted.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub access_rules: Option<Vec<serde_json::Value>>,
    /// Ignored: the id is always made up.
    #[serde(default)]
    pub id: Option<String>,
    /// Ignored: the project is the token's.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Only null: credentials are project-scoped.
    #[serde(default)]
    pub system: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationCredentialCreateRequest {
    pub application_credential: ApplicationCredentialCreate,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ApplicationCredentialListQuery {
    pub name: Option<String>,
}

fn bad(detail: &str) -> Error {
    Error::BadRequest(format!(
        "Invalid input for field 'application_credential/{detail}"
    ))
}

/// Keystone appends `Z` to a time without a zone; so do we.
fn parse_expiry(raw: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc()))
        .map_err(|_| Error::BadRequest(
            "Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.".into(),
        ))
}

fn create_request(c: ApplicationCredentialCreate) -> Result<CreateRequest, Error> {
    super::check_name("application_credential/name", &c.name)?;
    if c.access_rules.as_ref().is_some_and(|r| !r.is_empty()) {
        return Err(bad("access_rules': access rules are not supported."));
    }
    if c.system.is_some() {
        return Err(bad("system': credentials are project-scoped."));
    }
    let roles = c
        .roles
        .unwrap_or_default()
        .into_iter()
        .map(|r| match (r.id, r.name) {
            (Some(id), None) => Ok(RoleRef::Id(id)),
            (None, Some(name)) => Ok(RoleRef::Name(name)),
            _ => Err(bad("roles': each role needs exactly one of id and name.")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CreateRequest {
        name: c.name,
        description: c.description,
        secret: c.secret,
        expires_at: c.expires_at.as_deref().map(parse_expiry).transpose()?,
        unrestricted: c.unrestricted.unwrap_or(false),
        roles,
    })
}

/// Creates an application credential for the caller (only the user itself,
/// with a project-scoped token) on the token's project, with some or all of
/// the token's roles. The secret is returned in this response only.
#[utoipa::path(post, path = "/v3/users/{user_id}/application_credentials", tag = "application credentials",
    params(("user_id" = String, Path, description = "The user: the caller")),
    request_body = ApplicationCredentialCreateRequest,
    security(("token" = [])),
    responses((status = 201, description = "Created, with its secret", body = ApplicationCredentialResponse),
              (status = 400, description = "A role the token lacks, an expiry in the past, a bad field"),
              (status = 403, description = "Another user"),
              (status = 409, description = "Duplicate name for the user")))]
pub async fn create_application_credential(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    Json(body): Json<ApplicationCredentialCreateRequest>,
) -> Result<(StatusCode, Json<ApplicationCredentialResponse>), Error> {
    let req = create_request(body.application_credential)?;
    let created = app::create(&state, &auth, &user_id, req).await?;
    let mut view = ApplicationCredentialView::new(
        created.credential,
        created.roles,
        &v3_base(&state, &headers),
    );
    view.secret = Some(created.secret);
    Ok((
        StatusCode::CREATED,
        Json(ApplicationCredentialResponse {
            application_credential: view,
        }),
    ))
}

/// Lists a user's application credentials (the user or admin), by name if given.
#[utoipa::path(get, path = "/v3/users/{user_id}/application_credentials", tag = "application credentials",
    params(("user_id" = String, Path, description = "The user"), ApplicationCredentialListQuery),
    security(("token" = [])),
    responses((status = 200, description = "Application credentials", body = ApplicationCredentialsResponse)))]
pub async fn list_application_credentials(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    Query(q): Query<ApplicationCredentialListQuery>,
) -> Result<Json<ApplicationCredentialsResponse>, Error> {
    let creds = app::list(&state, &auth, &user_id, q.name.as_deref()).await?;
    let base = v3_base(&state, &headers);
    let path = format!("/v3/users/{user_id}/application_credentials");
    Ok(Json(ApplicationCredentialsResponse {
        application_credentials: creds
            .into_iter()
            .map(|(c, roles)| ApplicationCredentialView::new(c, roles, &base))
            .collect(),
        links: CollectionLinks::plain(&state, &headers, &path),
    }))
}

/// Shows one of a user's application credentials, without its secret;
/// another user's is 404.
#[utoipa::path(get, path = "/v3/users/{user_id}/application_credentials/{application_credential_id}",
    tag = "application credentials",
    params(("user_id" = String, Path, description = "The user"),
           ("application_credential_id" = String, Path, description = "The credential")),
    security(("token" = [])),
    responses((status = 200, description = "The credential", body = ApplicationCredentialResponse),
              (status = 404, description = "No such credential for this user")))]
pub async fn show_application_credential(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((user_id, id)): Path<(String, String)>,
) -> Result<Json<ApplicationCredentialResponse>, Error> {
    let (c, roles) = app::get(&state, &auth, &user_id, &id).await?;
    Ok(Json(ApplicationCredentialResponse {
        application_credential: ApplicationCredentialView::new(
            c,
            roles,
            &v3_base(&state, &headers),
        ),
    }))
}

/// Deletes an application credential (the user or admin). The user's
/// tokens issued until now are revoked, those made from the credential
/// among them: tokens do not name their credential in the revocation list.
#[utoipa::path(delete, path = "/v3/users/{user_id}/application_credentials/{application_credential_id}",
    tag = "application credentials",
    params(("user_id" = String, Path, description = "The user"),
           ("application_credential_id" = String, Path, description = "The credential")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted; the user's tokens revoked"),
              (status = 404, description = "No such credential for this user")))]
pub async fn delete_application_credential(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((user_id, id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::delete(&state, &auth, &user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
