//! Domains: policy checks, the store, revocation of a disabled domain's
//! tokens, and the audit trail.

use virga_auth::RevocationEvent;
use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_policy::Target;
use virga_service::auth::{Auth, unix_now_ms};

use super::{IdentityState, audit, publish};
use crate::db::domain::{self, DomainFilter, DomainUpdate, NewDomain};
use crate::db::{project, user};

const KIND: &str = "domain";

fn target(id: &str) -> Target {
    Target::new().with("domain_id", id)
}

pub async fn get(state: &IdentityState, auth: &Auth, id: &str) -> Result<domain::Model, Error> {
    auth.enforce_visible("identity:get_domain", &target(id), KIND, id)?;
    domain::get(state.ctx.db(), id).await
}

pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    filter: &DomainFilter,
    page: &PageRequest,
) -> Result<Page<domain::Model>, Error> {
    auth.enforce("identity:list_domains", &Target::new())?;
    domain::list(state.ctx.db(), filter, page).await
}

pub async fn create(
    state: &IdentityState,
    auth: &Auth,
    new: NewDomain,
) -> Result<domain::Model, Error> {
    auth.enforce("identity:create_domain", &Target::new())?;
    let d = domain::create(state.ctx.db(), new).await?;
    audit::change(state, auth, "identity:create_domain", KIND, &d.id).await;
    Ok(d)
}

/// Disabling a domain ends every token of its users and projects.
pub async fn update(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    change: DomainUpdate,
) -> Result<domain::Model, Error> {
    get(state, auth, id).await?;
    auth.enforce("identity:update_domain", &target(id))?;
    let disabling = change.enabled == Some(false);
    let d = domain::update(state.ctx.db(), id, change).await?;
    if disabling {
        revoke_domain_tokens(state, id).await?;
    }
    audit::change(state, auth, "identity:update_domain", KIND, id).await;
    Ok(d)
}

pub async fn delete(state: &IdentityState, auth: &Auth, id: &str) -> Result<(), Error> {
    get(state, auth, id).await?;
    auth.enforce("identity:delete_domain", &target(id))?;
    let txn = virga_db::begin_write(state.ctx.db())
        .await
        .map_err(Error::internal)?;
    domain::delete(&txn, id).await?;
    txn.commit().await.map_err(Error::internal)?;
    audit::change(state, auth, "identity:delete_domain", KIND, id).await;
    Ok(())
}

async fn revoke_domain_tokens(state: &IdentityState, id: &str) -> Result<(), Error> {
    let db = state.ctx.db();
    let now = unix_now_ms();
    for user_id in user::ids_in_domain(db, id).await? {
        let event = RevocationEvent::User {
            user_id,
            issued_before_ms: now,
        };
        publish::revoke(state, event).await?;
    }
    for project_id in project::ids_in_domain(db, id).await? {
        let event = RevocationEvent::Project {
            project_id,
            issued_before_ms: now,
        };
        publish::revoke(state, event).await?;
    }
    Ok(())
}
