//! A flavor's extra specs: readable by whoever sees the flavor, changed
//! by admins only; keys and values checked as Nova checks them.

use std::collections::BTreeMap;

use serde_json::Value;
use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::{flavor, input};
use crate::db::flavor_extra_spec;

fn key_ok(k: &str) -> bool {
    (1..=255).contains(&k.len())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.' | ' ' | '/'))
}

/// The pairs of a body's object, values as the strings Nova stores.
fn pairs(obj: &serde_json::Map<String, Value>) -> Result<BTreeMap<String, String>, Error> {
    obj.iter()
        .map(|(k, v)| {
            if !key_ok(k) {
                return Err(input::invalid(
                    "extra_specs",
                    &Value::String(k.clone()),
                    format!("'{k}' does not match '^[a-zA-Z0-9-_:. /]{{1,255}}$'"),
                ));
            }
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                // Python's str() of a boolean, as Nova stores it.
                Value::Bool(true) => "True".into(),
                Value::Bool(false) => "False".into(),
                other => {
                    return Err(input::invalid(
                        k,
                        other,
                        format!("{other} is not of type 'string', 'number', 'boolean'"),
                    ));
                }
            };
            if value.chars().count() > 255 {
                return Err(input::invalid(k, v, format!("'{value}' is too long")));
            }
            Ok((k.clone(), value))
        })
        .collect()
}

pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
) -> Result<BTreeMap<String, String>, Error> {
    auth.enforce("os_compute_api:os-flavor-extra-specs:index", &Target::new())?;
    flavor::visible(ctx, auth, id).await?;
    flavor_extra_spec::of(ctx.db(), id).await
}

pub async fn show(ctx: &ServiceContext, auth: &Auth, id: &str, key: &str) -> Result<String, Error> {
    auth.enforce("os_compute_api:os-flavor-extra-specs:show", &Target::new())?;
    flavor::visible(ctx, auth, id).await?;
    flavor_extra_spec::get(ctx.db(), id, key)
        .await?
        .ok_or_else(|| no_key(id, key))
}

fn no_key(id: &str, key: &str) -> Error {
    Error::Missing {
        kind: "Flavor extra spec",
        message: format!("Flavor {id} has no extra specs with key {key}."),
    }
}

/// Adds or replaces the pairs of `{"extra_specs": {...}}`; returns them.
pub async fn create(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    body: &Value,
) -> Result<BTreeMap<String, String>, Error> {
    auth.enforce(
        "os_compute_api:os-flavor-extra-specs:create",
        &Target::new(),
    )?;
    let obj = body
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("extra_specs"))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            Error::BadRequest(
                "Invalid input for field/attribute extra_specs. 'extra_specs' is a required property"
                    .into(),
            )
        })?;
    let specs = pairs(obj)?;
    flavor::visible(ctx, auth, id).await?;
    flavor_extra_spec::set(ctx.db(), id, &specs).await?;
    tracing::info!(flavor = %id, keys = specs.len(), "flavor extra specs set");
    Ok(specs)
}

/// Sets one key from `{"<key>": value}`; the body must name the URL's key.
pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    key: &str,
    body: &Value,
) -> Result<(String, String), Error> {
    auth.enforce(
        "os_compute_api:os-flavor-extra-specs:update",
        &Target::new(),
    )?;
    let obj = body
        .as_object()
        .ok_or_else(|| input::invalid("extra_specs", body, "It is not an object."))?;
    if obj.len() > 1 {
        return Err(Error::BadRequest(
            "Request body contains too many items".into(),
        ));
    }
    if !obj.contains_key(key) {
        return Err(Error::BadRequest("Request body and URI mismatch".into()));
    }
    let specs = pairs(obj)?;
    flavor::visible(ctx, auth, id).await?;
    flavor_extra_spec::set(ctx.db(), id, &specs).await?;
    let (k, v) = specs.into_iter().next().expect("one pair");
    tracing::info!(flavor = %id, key = %k, "flavor extra spec set");
    Ok((k, v))
}

pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str, key: &str) -> Result<(), Error> {
    auth.enforce(
        "os_compute_api:os-flavor-extra-specs:delete",
        &Target::new(),
    )?;
    flavor::visible(ctx, auth, id).await?;
    if !flavor_extra_spec::delete(ctx.db(), id, key).await? {
        return Err(no_key(id, key));
    }
    tracing::info!(flavor = %id, key, "flavor extra spec deleted");
    Ok(())
}
