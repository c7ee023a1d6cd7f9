//! `/v3/OS-FEDERATION/identity_providers`: trusted identity providers,
//! with Virga's `oidc` block for the OpenID Connect client settings.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_common::pagination::PageQuery;
use virga_service::auth::Auth;

use crate::app::IdentityState;
use crate::app::federation::identity_provider::{
    self as app, Provider, ProviderChange, ProviderCreate,
};
use crate::db::federation::identity_provider::{
    IdentityProviderFilter, IdentityProviderUpdate, NewIdentityProvider, OidcSettings,
};
use crate::http::{CollectionLinks, page_request, parse_bool, v3_base};

const DEFAULT_SCOPES: &str = "openid email profile";

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityProviderLinks {
    #[serde(rename = "self")]
    pub self_: String,
    pub protocols: String,
}

/// The OpenID Connect client Virga is at the provider; the secret is
/// write-only.
#[derive(Debug, Serialize, ToSchema)]
pub struct OidcView {
    pub issuer: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// Whether a client secret is stored (it is never shown).
    pub client_secret_set: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityProviderView {
    pub id: String,
    pub domain_id: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub remote_ids: Vec<String>,
    /// Minutes a group membership mapped at login lasts; null: one token lifetime.
    pub authorization_ttl: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcView>,
    pub links: IdentityProviderLinks,
}

impl IdentityProviderView {
    pub fn new(p: Provider, base: &str) -> Self {
        let self_ = format!("{base}/OS-FEDERATION/identity_providers/{}", p.model.id);
        let oidc = p.model.oidc().map(|o| OidcView {
            issuer: o.issuer,
            client_id: o.client_id,
            scopes: o.scopes.split_whitespace().map(str::to_owned).collect(),
            client_secret_set: o.client_secret.is_some(),
        });
        IdentityProviderView {
            links: IdentityProviderLinks {
                protocols: format!("{self_}/protocols"),
                self_,
            },
            id: p.model.id,
            domain_id: p.model.domain_id,
            description: p.model.description,
            enabled: p.model.enabled,
            remote_ids: p.remote_ids,
            authorization_ttl: p.model.authorization_ttl,
            oidc,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityProviderResponse {
    pub identity_provider: IdentityProviderView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityProvidersResponse {
    pub identity_providers: Vec<IdentityProviderView>,
    pub links: CollectionLinks,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcBody {
    /// The provider's issuer URL (https; http only on loopback); its
    /// `/.well-known/openid-configuration` is read from there.
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes asked for in a browser login; default `openid email profile`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

impl OidcBody {
    fn settings(self) -> OidcSettings {
        OidcSettings {
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret: self.client_secret.filter(|s| !s.is_empty()),
            scopes: self
                .scopes
                .map_or_else(|| DEFAULT_SCOPES.to_owned(), |s| s.join(" ")),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderCreate {
    /// Sent by python-keystoneclient; must match the path.
    #[serde(default)]
    pub id: Option<String>,
    /// The domain its users are created in; a new domain when absent.
    #[serde(default)]
    pub domain_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Default false, as in Keystone.
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub remote_ids: Option<Vec<String>>,
    #[serde(default)]
    pub authorization_ttl: Option<i64>,
    #[serde(default)]
    pub oidc: Option<OidcBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderCreateRequest {
    pub identity_provider: IdentityProviderCreate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderPatch {
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<Vec<String>>)]
    pub remote_ids: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<i64>)]
    pub authorization_ttl: Option<Option<i64>>,
    /// null removes the OpenID Connect client.
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<OidcBody>)]
    pub oidc: Option<Option<OidcBody>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderPatchRequest {
    pub identity_provider: IdentityProviderPatch,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct IdentityProviderListQuery {
    pub id: Option<String>,
    pub enabled: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    pub page: PageQuery,
}

fn invalid(field: &str, why: &str) -> Error {
    Error::BadRequest(format!(
        "Invalid input for field 'identity_provider/{field}': {why}"
    ))
}

pub(super) fn check_id(field: &str, id: &str) -> Result<(), Error> {
    if id.is_empty() || id.chars().count() > 64 {
        return Err(Error::BadRequest(format!(
            "Invalid input for field '{field}': 1 to 64 characters."
        )));
    }
    Ok(())
}

/// An id in the body, which some clients repeat, must be the path's.
pub(super) fn same_id(kind: &str, path: &str, body: &Option<String>) -> Result<(), Error> {
    match body {
        Some(b) if b != path => Err(Error::BadRequest(format!(
            "Invalid input for field '{kind}/id': {b:?} is not the id in the path, {path:?}."
        ))),
        _ => Ok(()),
    }
}

fn check_remote_ids(ids: &[String]) -> Result<(), Error> {
    let mut seen = std::collections::BTreeSet::new();
    for id in ids {
        if id.is_empty() || id.chars().count() > 255 {
            return Err(invalid(
                "remote_ids",
                "each remote id has 1 to 255 characters.",
            ));
        }
        if !seen.insert(id) {
            return Err(invalid("remote_ids", &format!("{id} is listed twice.")));
        }
    }
    Ok(())
}

fn ttl(v: Option<i64>) -> Result<Option<i32>, Error> {
    v.map(|t| {
        i32::try_from(t)
            .ok()
            .filter(|t| *t >= 0)
            .ok_or_else(|| invalid("authorization_ttl", "minutes, 0 or more."))
    })
    .transpose()
}

/// Lists identity providers, filtered by `id` or `enabled`.
#[utoipa::path(get, path = "/v3/OS-FEDERATION/identity_providers", tag = "federation",
    params(IdentityProviderListQuery, PageQuery), security(("token" = [])),
    responses((status = 200, description = "Identity providers", body = IdentityProvidersResponse)))]
pub async fn list_identity_providers(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Query(q): Query<IdentityProviderListQuery>,
) -> Result<Json<IdentityProvidersResponse>, Error> {
    let req = page_request(&q.page)?;
    let filter = IdentityProviderFilter {
        id: q.id.clone(),
        enabled: parse_bool("enabled", &q.enabled)?,
    };
    let page = app::list(&state, &auth, &filter, &req).await?;
    let params = crate::http::query_params(&[("id", &q.id), ("enabled", &q.enabled)]);
    let path = "/v3/OS-FEDERATION/identity_providers";
    let links = CollectionLinks::page(&state, &headers, path, &params, &page, &req);
    let base = v3_base(&state, &headers);
    Ok(Json(IdentityProvidersResponse {
        identity_providers: page
            .items
            .into_iter()
            .map(|p| IdentityProviderView::new(p, &base))
            .collect(),
        links,
    }))
}

/// Registers an identity provider under the id in the path (admin). An
/// unknown domain is 404, a taken id or remote id 409.
#[utoipa::path(put, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}", tag = "federation",
    params(("idp_id" = String, Path, description = "The new provider's id")),
    request_body = IdentityProviderCreateRequest, security(("token" = [])),
    responses((status = 201, description = "Registered", body = IdentityProviderResponse),
              (status = 400, description = "Invalid settings"),
              (status = 404, description = "No such domain"),
              (status = 409, description = "Duplicate id or remote id")))]
pub async fn create_identity_provider(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<IdentityProviderCreateRequest>,
) -> Result<(StatusCode, Json<IdentityProviderResponse>), Error> {
    check_id("idp_id", &id)?;
    let b = body.identity_provider;
    same_id("identity_provider", &id, &b.id)?;
    if let Some(ids) = &b.remote_ids {
        check_remote_ids(ids)?;
    }
    let req = ProviderCreate {
        new: NewIdentityProvider {
            id,
            domain_id: b.domain_id.unwrap_or_default(),
            description: b.description,
            enabled: b.enabled.unwrap_or(false),
            authorization_ttl: ttl(b.authorization_ttl)?,
            oidc: b.oidc.map(OidcBody::settings),
        },
        remote_ids: b.remote_ids,
    };
    let p = app::create(&state, &auth, req).await?;
    let identity_provider = IdentityProviderView::new(p, &v3_base(&state, &headers));
    Ok((
        StatusCode::CREATED,
        Json(IdentityProviderResponse { identity_provider }),
    ))
}

/// Shows an identity provider.
#[utoipa::path(get, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}", tag = "federation",
    params(("idp_id" = String, Path, description = "The provider")), security(("token" = [])),
    responses((status = 200, description = "The provider", body = IdentityProviderResponse),
              (status = 404, description = "No such provider")))]
pub async fn show_identity_provider(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<IdentityProviderResponse>, Error> {
    let p = app::get(&state, &auth, &id).await?;
    let identity_provider = IdentityProviderView::new(p, &v3_base(&state, &headers));
    Ok(Json(IdentityProviderResponse { identity_provider }))
}

/// Updates a provider (admin). Its domain cannot change (400). Disabling
/// it revokes its users' tokens; `remote_ids` replaces the whole list.
#[utoipa::path(patch, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}", tag = "federation",
    params(("idp_id" = String, Path, description = "The provider")),
    request_body = IdentityProviderPatchRequest, security(("token" = [])),
    responses((status = 200, description = "Updated", body = IdentityProviderResponse),
              (status = 400, description = "Invalid settings"),
              (status = 409, description = "A remote id another provider has")))]
pub async fn update_identity_provider(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<IdentityProviderPatchRequest>,
) -> Result<Json<IdentityProviderResponse>, Error> {
    let b = body.identity_provider;
    let remote_ids = b.remote_ids.map(Option::unwrap_or_default);
    if let Some(ids) = &remote_ids {
        check_remote_ids(ids)?;
    }
    let change = ProviderChange {
        update: IdentityProviderUpdate {
            description: b.description,
            enabled: b.enabled,
            authorization_ttl: b.authorization_ttl.map(ttl).transpose()?,
            oidc: b.oidc.map(|o| o.map(OidcBody::settings)),
        },
        remote_ids,
    };
    let p = app::update(&state, &auth, &id, change).await?;
    let identity_provider = IdentityProviderView::new(p, &v3_base(&state, &headers));
    Ok(Json(IdentityProviderResponse { identity_provider }))
}

/// Deletes a provider (admin) with its protocols and the users it
/// provisioned; their tokens stop working.
#[utoipa::path(delete, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}", tag = "federation",
    params(("idp_id" = String, Path, description = "The provider")), security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such provider")))]
pub async fn delete_identity_provider(
    auth: Auth,
    State(state): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
