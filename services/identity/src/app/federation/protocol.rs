//! Protocols: which mapping applies to an identity provider's logins, and
//! what removing one ends (the shadow users that logged in through it).

use virga_common::Error;
use virga_policy::Target;
use virga_service::auth::Auth;

use crate::app::{IdentityState, audit, user::revoke_user_tokens};
use crate::db::federation::{federated_user, identity_provider as idp, mapping, protocol};
use crate::db::user;

const KIND: &str = "protocol";

fn target(idp_id: &str, id: &str) -> Target {
    Target::new().with("idp_id", idp_id).with("protocol_id", id)
}

pub async fn get(
    state: &IdentityState,
    auth: &Auth,
    idp_id: &str,
    id: &str,
) -> Result<protocol::Model, Error> {
    auth.enforce("identity:get_protocol", &target(idp_id, id))?;
    protocol::get(state.ctx.db(), idp_id, id).await
}

pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    idp_id: &str,
) -> Result<Vec<protocol::Model>, Error> {
    auth.enforce(
        "identity:list_protocols",
        &Target::new().with("idp_id", idp_id),
    )?;
    idp::get(state.ctx.db(), idp_id).await?;
    protocol::list(state.ctx.db(), idp_id).await
}

pub async fn create(
    state: &IdentityState,
    auth: &Auth,
    new: protocol::Model,
) -> Result<protocol::Model, Error> {
    auth.enforce("identity:create_protocol", &target(&new.idp_id, &new.id))?;
    let db = state.ctx.db();
    idp::get(db, &new.idp_id).await?;
    known_mapping(state, &new.mapping_id).await?;
    let (idp_id, id) = (new.idp_id.clone(), new.id.clone());
    let p = protocol::create(db, new).await?;
    audit::change(
        state,
        auth,
        "identity:create_protocol",
        KIND,
        &format!("{idp_id}/{id}"),
    )
    .await;
    Ok(p)
}

pub async fn update(
    state: &IdentityState,
    auth: &Auth,
    idp_id: &str,
    id: &str,
    mapping_id: String,
    remote_id_attribute: Option<Option<String>>,
) -> Result<protocol::Model, Error> {
    auth.enforce("identity:update_protocol", &target(idp_id, id))?;
    known_mapping(state, &mapping_id).await?;
    let p = protocol::update(
        state.ctx.db(),
        idp_id,
        id,
        Some(mapping_id),
        remote_id_attribute,
    )
    .await?;
    audit::change(
        state,
        auth,
        "identity:update_protocol",
        KIND,
        &format!("{idp_id}/{id}"),
    )
    .await;
    Ok(p)
}

/// Deletes a protocol and the shadow users that logged in through it
/// (Keystone does too); their tokens are revoked.
pub async fn delete(
    state: &IdentityState,
    auth: &Auth,
    idp_id: &str,
    id: &str,
) -> Result<(), Error> {
    auth.enforce("identity:delete_protocol", &target(idp_id, id))?;
    let txn = virga_db::begin_write(state.ctx.db())
        .await
        .map_err(Error::internal)?;
    protocol::get(&txn, idp_id, id).await?;
    let shadows = federated_user::user_ids_of_protocol(&txn, idp_id, id).await?;
    protocol::delete(&txn, idp_id, id).await?;
    for u in &shadows {
        user::delete(&txn, u).await?;
    }
    txn.commit().await.map_err(Error::internal)?;
    for u in &shadows {
        revoke_user_tokens(state, u).await?;
    }
    audit::change(
        state,
        auth,
        "identity:delete_protocol",
        KIND,
        &format!("{idp_id}/{id}"),
    )
    .await;
    Ok(())
}

async fn known_mapping(state: &IdentityState, id: &str) -> Result<(), Error> {
    match mapping::get(state.ctx.db(), id).await {
        Ok(_) => Ok(()),
        Err(Error::NotFound { .. }) => Err(Error::BadRequest(format!("Invalid mapping id: {id}"))),
        Err(e) => Err(e),
    }
}
