//! Mappings: policy, and rules checked when stored, so a broken mapping is
//! a 400 for the administrator rather than a 401 for every user.

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_policy::Target;
use virga_service::auth::Auth;

use super::rules;
use crate::app::{IdentityState, audit};
use crate::db::federation::mapping;

const KIND: &str = "mapping";

/// The schema versions Keystone knows; Virga's rules are the same in each
/// (it has no project auto-provisioning, 2.0's and 3.0's addition).
pub const SCHEMA_VERSIONS: [&str; 3] = ["1.0", "2.0", "3.0"];

fn target(id: &str) -> Target {
    Target::new().with("mapping_id", id)
}

pub async fn get(state: &IdentityState, auth: &Auth, id: &str) -> Result<mapping::Model, Error> {
    auth.enforce("identity:get_mapping", &target(id))?;
    mapping::get(state.ctx.db(), id).await
}

pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    page: &PageRequest,
) -> Result<Page<mapping::Model>, Error> {
    auth.enforce("identity:list_mappings", &Target::new())?;
    mapping::list(state.ctx.db(), page).await
}

pub async fn create(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    rules: &serde_json::Value,
    schema_version: Option<String>,
) -> Result<mapping::Model, Error> {
    auth.enforce("identity:create_mapping", &target(id))?;
    let model = mapping::Model {
        id: id.to_string(),
        rules: checked(rules)?,
        schema_version: version(schema_version)?.unwrap_or_else(|| "1.0".into()),
    };
    let m = mapping::create(state.ctx.db(), model).await?;
    audit::change(state, auth, "identity:create_mapping", KIND, id).await;
    Ok(m)
}

/// Replaces a mapping's rules; logins after this use the new ones.
pub async fn update(
    state: &IdentityState,
    auth: &Auth,
    id: &str,
    rules: &serde_json::Value,
    schema_version: Option<String>,
) -> Result<mapping::Model, Error> {
    auth.enforce("identity:update_mapping", &target(id))?;
    let m = mapping::update(
        state.ctx.db(),
        id,
        checked(rules)?,
        version(schema_version)?,
    )
    .await?;
    audit::change(state, auth, "identity:update_mapping", KIND, id).await;
    Ok(m)
}

/// Deletes a mapping no protocol uses; one in use is 409.
pub async fn delete(state: &IdentityState, auth: &Auth, id: &str) -> Result<(), Error> {
    auth.enforce("identity:delete_mapping", &target(id))?;
    mapping::delete(state.ctx.db(), id).await?;
    audit::change(state, auth, "identity:delete_mapping", KIND, id).await;
    Ok(())
}

/// The stored rules of a mapping, parsed.
pub fn rules_of(m: &mapping::Model) -> Result<Vec<rules::Rule>, Error> {
    let v: serde_json::Value = serde_json::from_str(&m.rules).map_err(Error::internal)?;
    rules::parse(&v).map_err(|e| Error::internal(format!("stored mapping {}: {e}", m.id)))
}

fn checked(rules: &serde_json::Value) -> Result<String, Error> {
    let parsed = rules::parse(rules).map_err(Error::BadRequest)?;
    serde_json::to_string(&parsed).map_err(Error::internal)
}

fn version(v: Option<String>) -> Result<Option<String>, Error> {
    match v {
        Some(v) if !SCHEMA_VERSIONS.contains(&v.as_str()) => Err(Error::BadRequest(format!(
            "Invalid input for field 'mapping/schema_version': {v:?} is not one of {SCHEMA_VERSIONS:?}."
        ))),
        v => Ok(v),
    }
}
