//! Regions: policy checks, the store and the audit trail. A region's
//! `parent_region_id` places an edge site under its central region.

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_policy::Target;
use virga_service::auth::Auth;

use super::{IdentityState, audit};
use crate::db::region::{self, NewRegion, RegionUpdate};

const KIND: &str = "region";

fn target(id: &str) -> Target {
    Target::new().with("region_id", id)
}

pub async fn get(state: &IdentityState, auth: &Auth, id: &str) -> Result<region::Model, Error> {
    auth.enforce("identity:get_region", &target(id))?;
    region::get(state.ctx.db(), id).await
}

pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    parent_region_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<region::Model>, Error> {
    auth.enforce("identity:list_regions", &Target::new())?;
    region::list(state.ctx.db(), parent_region_id, page).await
}

/// Creates a region; an unknown parent is a bad request, a taken id a conflict.
pub async fn create(
    state: &IdentityState,
    auth: &Auth,
    new: NewRegion,
) -> Result<region::Model, Error> {
    auth.enforce("identity:create_region", &Target::new())?;
    let db = state.ctx.db();
    if let Some(parent) = &new.parent_region_id {
        known_parent(state, parent).await?;
    }
    let r = region::create(db, new).await?;
    audit::change(state, auth, "identity:create_region", KIND, &r.id).await;
    Ok(r)
}

/// Updates a region; an unknown parent or one that would make a cycle is a bad request.
pub async fn update(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    change: RegionUpdate,
) -> Result<region::Model, Error> {
    auth.enforce("identity:update_region", &target(id))?;
    let r = region::update(state.ctx.db(), id, change).await?;
    audit::change(state, auth, "identity:update_region", KIND, id).await;
    Ok(r)
}

/// Deletes a region without child regions or endpoints; otherwise 409.
pub async fn delete(state: &IdentityState, auth: &Auth, id: &str) -> Result<(), Error> {
    auth.enforce("identity:delete_region", &target(id))?;
    region::delete(state.ctx.db(), id).await?;
    audit::change(state, auth, "identity:delete_region", KIND, id).await;
    Ok(())
}

async fn known_parent(state: &IdentityState, parent: &str) -> Result<(), Error> {
    match region::get(state.ctx.db(), parent).await {
        Ok(_) => Ok(()),
        Err(Error::NotFound { .. }) => Err(Error::BadRequest(format!(
            "Parent region {parent} not found."
        ))),
        Err(e) => Err(e),
    }
}
