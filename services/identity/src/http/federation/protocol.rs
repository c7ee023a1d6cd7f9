//! `/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols`: how a
//! provider's users log in and which mapping applies.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use virga_common::Error;
use virga_service::auth::Auth;

use super::identity_provider::{check_id, same_id};
use crate::app::IdentityState;
use crate::app::federation::protocol as app;
use crate::db::federation::protocol;
use crate::http::{CollectionLinks, v3_base};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolLinks {
    #[serde(rename = "self")]
    pub self_: String,
    pub identity_provider: String,
}

fn links(p: &protocol::Model, base: &str) -> ProtocolLinks {
    let idp = format!("{base}/OS-FEDERATION/identity_providers/{}", p.idp_id);
    ProtocolLinks {
        self_: format!("{idp}/protocols/{}", p.id),
        identity_provider: idp,
    }
}

/// One protocol, as Keystone shows it alone: id, mapping and links.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolView {
    pub id: String,
    pub mapping_id: String,
    pub links: ProtocolLinks,
}

/// A protocol in a list, where Keystone also shows its provider and
/// remote id attribute.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolListItem {
    pub id: String,
    pub idp_id: String,
    pub mapping_id: String,
    pub remote_id_attribute: Option<String>,
    pub links: ProtocolLinks,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolResponse {
    pub protocol: ProtocolView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProtocolsResponse {
    pub protocols: Vec<ProtocolListItem>,
    pub links: CollectionLinks,
}

impl ProtocolResponse {
    fn new(p: protocol::Model, base: &str) -> Self {
        ProtocolResponse {
            protocol: ProtocolView {
                links: links(&p, base),
                id: p.id,
                mapping_id: p.mapping_id,
            },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolBody {
    /// Sent by python-keystoneclient; must match the path.
    #[serde(default)]
    pub id: Option<String>,
    pub mapping_id: String,
    /// Accepted for Keystone compatibility; an OpenID Connect provider is
    /// recognised by its configured issuer.
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<String>)]
    pub remote_id_attribute: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolRequest {
    pub protocol: ProtocolBody,
}

fn check_attribute(a: &Option<Option<String>>) -> Result<(), Error> {
    if let Some(Some(a)) = a
        && a.chars().count() > 64
    {
        return Err(Error::BadRequest(
            "Invalid input for field 'protocol/remote_id_attribute': at most 64 characters.".into(),
        ));
    }
    Ok(())
}

/// Lists a provider's protocols.
#[utoipa::path(get, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols",
    tag = "federation", params(("idp_id" = String, Path, description = "The provider")),
    security(("token" = [])),
    responses((status = 200, description = "Protocols", body = ProtocolsResponse),
              (status = 404, description = "No such provider")))]
pub async fn list_protocols(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path(idp_id): Path<String>,
) -> Result<Json<ProtocolsResponse>, Error> {
    let found = app::list(&state, &auth, &idp_id).await?;
    let base = v3_base(&state, &headers);
    let path = format!("/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols");
    Ok(Json(ProtocolsResponse {
        protocols: found
            .into_iter()
            .map(|p| ProtocolListItem {
                links: links(&p, &base),
                id: p.id,
                idp_id: p.idp_id,
                mapping_id: p.mapping_id,
                remote_id_attribute: p.remote_id_attribute,
            })
            .collect(),
        links: CollectionLinks::plain(&state, &headers, &path),
    }))
}

/// Adds a protocol to a provider (admin). An unknown mapping is 400, an
/// unknown provider 404, a protocol the provider has already 409.
#[utoipa::path(put, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}",
    tag = "federation",
    params(("idp_id" = String, Path, description = "The provider"),
           ("protocol_id" = String, Path, description = "The protocol, e.g. openid")),
    request_body = ProtocolRequest, security(("token" = [])),
    responses((status = 201, description = "Created", body = ProtocolResponse),
              (status = 400, description = "Unknown mapping"),
              (status = 404, description = "No such provider"),
              (status = 409, description = "Duplicate protocol")))]
pub async fn create_protocol(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((idp_id, id)): Path<(String, String)>,
    Json(body): Json<ProtocolRequest>,
) -> Result<(StatusCode, Json<ProtocolResponse>), Error> {
    check_id("protocol_id", &id)?;
    let b = body.protocol;
    same_id("protocol", &id, &b.id)?;
    check_attribute(&b.remote_id_attribute)?;
    let new = protocol::Model {
        idp_id,
        id,
        mapping_id: b.mapping_id,
        remote_id_attribute: b.remote_id_attribute.flatten(),
    };
    let p = app::create(&state, &auth, new).await?;
    let base = v3_base(&state, &headers);
    Ok((StatusCode::CREATED, Json(ProtocolResponse::new(p, &base))))
}

/// Shows a protocol.
#[utoipa::path(get, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}",
    tag = "federation",
    params(("idp_id" = String, Path, description = "The provider"),
           ("protocol_id" = String, Path, description = "The protocol")),
    security(("token" = [])),
    responses((status = 200, description = "The protocol", body = ProtocolResponse),
              (status = 404, description = "No such protocol")))]
pub async fn show_protocol(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((idp_id, id)): Path<(String, String)>,
) -> Result<Json<ProtocolResponse>, Error> {
    let p = app::get(&state, &auth, &idp_id, &id).await?;
    Ok(Json(ProtocolResponse::new(p, &v3_base(&state, &headers))))
}

/// Points a protocol at another mapping (admin); `mapping_id` is required.
#[utoipa::path(patch, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}",
    tag = "federation",
    params(("idp_id" = String, Path, description = "The provider"),
           ("protocol_id" = String, Path, description = "The protocol")),
    request_body = ProtocolRequest, security(("token" = [])),
    responses((status = 200, description = "Updated", body = ProtocolResponse),
              (status = 400, description = "Unknown mapping"),
              (status = 404, description = "No such protocol")))]
pub async fn update_protocol(
    auth: Auth,
    State(state): State<IdentityState>,
    headers: HeaderMap,
    Path((idp_id, id)): Path<(String, String)>,
    Json(body): Json<ProtocolRequest>,
) -> Result<Json<ProtocolResponse>, Error> {
    let b = body.protocol;
    same_id("protocol", &id, &b.id)?;
    check_attribute(&b.remote_id_attribute)?;
    let p = app::update(
        &state,
        &auth,
        &idp_id,
        &id,
        b.mapping_id,
        b.remote_id_attribute,
    )
    .await?;
    Ok(Json(ProtocolResponse::new(p, &v3_base(&state, &headers))))
}

/// Deletes a protocol (admin) and the users that logged in through it.
#[utoipa::path(delete, path = "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}",
    tag = "federation",
    params(("idp_id" = String, Path, description = "The provider"),
           ("protocol_id" = String, Path, description = "The protocol")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such protocol")))]
pub async fn delete_protocol(
    auth: Auth,
    State(state): State<IdentityState>,
    Path((idp_id, id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::delete(&state, &auth, &idp_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
