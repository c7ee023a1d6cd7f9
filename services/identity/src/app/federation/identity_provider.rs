//! Identity providers: policy, the domain their users live in, their
//! OpenID Connect client settings, remote ids, and what deleting one ends
//! (its shadow users and their tokens).

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_policy::Target;
use virga_service::auth::Auth;

use crate::app::{IdentityState, audit, user::revoke_user_tokens};
use crate::db::domain;
use crate::db::federation::federated_user;
use crate::db::federation::identity_provider::{
    self as idp, IdentityProviderFilter, IdentityProviderUpdate, NewIdentityProvider, OidcSettings,
};
use crate::db::user;

const KIND: &str = "identity_provider";

/// A provider with its remote ids, as the API shows it.
pub struct Provider {
    pub model: idp::Model,
    pub remote_ids: Vec<String>,
}

pub struct ProviderCreate {
    pub new: NewIdentityProvider,
    pub remote_ids: Option<Vec<String>>,
}

pub struct ProviderChange {
    pub update: IdentityProviderUpdate,
    pub remote_ids: Option<Vec<String>>,
}

fn target(id: &str) -> Target {
    Target::new().with("idp_id", id)
}

pub async fn get(state: &IdentityState, auth: &Auth, id: &str) -> Result<Provider, Error> {
    auth.enforce("identity:get_identity_provider", &target(id))?;
    with_remote_ids(state, idp::get(state.ctx.db(), id).await?).await
}

pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    filter: &IdentityProviderFilter,
    page: &PageRequest,
) -> Result<Page<Provider>, Error> {
    auth.enforce("identity:list_identity_providers", &Target::new())?;
    let db = state.ctx.db();
    let page = idp::list(db, filter, page).await?;
    let ids: Vec<String> = page.items.iter().map(|p| p.id.clone()).collect();
    let mut remote = idp::remote_ids(db, &ids).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|model| Provider {
                remote_ids: remote.remove(&model.id).unwrap_or_default(),
                model,
            })
            .collect(),
        next_marker: page.next_marker,
    })
}

/// Registers a provider. Without a domain, a new one is made for its
/// users (as Keystone does); without remote ids, an OpenID Connect
/// provider's issuer is its remote id.
pub async fn create(
    state: &IdentityState,
    auth: &Auth,
    mut req: ProviderCreate,
) -> Result<Provider, Error> {
    auth.enforce("identity:create_identity_provider", &target(&req.new.id))?;
    if let Some(o) = &req.new.oidc {
        check_oidc(o)?;
    }
    let remote_ids = match req.remote_ids.take() {
        Some(ids) => ids,
        None => req.new.oidc.iter().map(|o| o.issuer.clone()).collect(),
    };
    let db = state.ctx.db();
    let txn = virga_db::begin_write(db).await.map_err(Error::internal)?;
    if req.new.domain_id.is_empty() {
        // Keystone's auto-generated domain: named by a fresh id, so it can
        // never clash with a domain someone named after the provider.
        let name = crate::db::new_id();
        let d = domain::create(
            &txn,
            domain::NewDomain {
                name,
                description: Some(format!(
                    "Auto generated federated domain for Identity Provider: {}",
                    req.new.id
                )),
                enabled: true,
            },
        )
        .await?;
        req.new.domain_id = d.id;
    } else {
        domain::get(&txn, &req.new.domain_id).await?;
    }
    let model = idp::create(&txn, req.new).await?;
    idp::set_remote_ids(&txn, &model.id, &remote_ids).await?;
    txn.commit().await.map_err(Error::internal)?;
    audit::change(
        state,
        auth,
        "identity:create_identity_provider",
        KIND,
        &model.id,
    )
    .await;
    with_remote_ids(state, model).await
}

pub async fn update(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    change: ProviderChange,
) -> Result<Provider, Error> {
    auth.enforce("identity:update_identity_provider", &target(id))?;
    if let Some(Some(o)) = &change.update.oidc {
        check_oidc(o)?;
    }
    let disabling = change.update.enabled == Some(false);
    let txn = virga_db::begin_write(state.ctx.db())
        .await
        .map_err(Error::internal)?;
    let model = idp::update(&txn, id, change.update).await?;
    if let Some(ids) = &change.remote_ids {
        idp::set_remote_ids(&txn, id, ids).await?;
    }
    let shadows = federated_user::user_ids_of_idp(&txn, id).await?;
    txn.commit().await.map_err(Error::internal)?;
    if disabling {
        // A disabled provider's users are logged out, as a disabled user is.
        for u in &shadows {
            revoke_user_tokens(state, u).await?;
        }
    }
    audit::change(state, auth, "identity:update_identity_provider", KIND, id).await;
    with_remote_ids(state, model).await
}

/// Deletes a provider with its protocols and its shadow users; their
/// tokens are revoked.
pub async fn delete(state: &IdentityState, auth: &Auth, id: &str) -> Result<(), Error> {
    auth.enforce("identity:delete_identity_provider", &target(id))?;
    let txn = virga_db::begin_write(state.ctx.db())
        .await
        .map_err(Error::internal)?;
    let shadows = federated_user::user_ids_of_idp(&txn, id).await?;
    idp::delete(&txn, id).await?;
    for u in &shadows {
        user::delete(&txn, u).await?;
    }
    txn.commit().await.map_err(Error::internal)?;
    for u in &shadows {
        revoke_user_tokens(state, u).await?;
    }
    audit::change(state, auth, "identity:delete_identity_provider", KIND, id).await;
    Ok(())
}

async fn with_remote_ids(state: &IdentityState, model: idp::Model) -> Result<Provider, Error> {
    let mut remote = idp::remote_ids(state.ctx.db(), std::slice::from_ref(&model.id)).await?;
    Ok(Provider {
        remote_ids: remote.remove(&model.id).unwrap_or_default(),
        model,
    })
}

/// An issuer is an https URL; plain http only on loopback, where a test or
/// an all-in-one box runs its provider.
fn check_oidc(o: &OidcSettings) -> Result<(), Error> {
    let bad = |m: &str| {
        Err(Error::BadRequest(format!(
            "Invalid input for field 'oidc/{m}"
        )))
    };
    let Ok(url) = reqwest::Url::parse(&o.issuer) else {
        return bad("issuer': not a URL.");
    };
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback());
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return bad("issuer': must be https (http only on loopback).");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return bad("issuer': must have no query or fragment.");
    }
    if o.client_id.is_empty() {
        return bad("client_id': must not be empty.");
    }
    if !o.scopes.split_whitespace().any(|s| s == "openid") {
        return bad("scopes': must include openid.");
    }
    Ok(())
}
