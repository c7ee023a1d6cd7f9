//! `POST /reshaper` (1.30): inventories and allocations replaced together.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde_json::Value;
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::allocation::claim;
use super::body;
use super::inventory::{FIELDS, generation, parse};
use super::microversion::Microversion;
use crate::app::enforce;
use crate::app::reshaper::{self as app, Reshape};

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a serde_json::Map<String, Value>, Error> {
    v.as_object()
        .ok_or_else(|| body::invalid(format!("'{what}' is not of type 'object'")))
}

/// Replaces some providers' inventories and some consumers' allocations
/// in one transaction (moving inventory from a node to a new child
/// provider together with what is allocated of it). Each provider's
/// change is checked against the generation given, each consumer's
/// against its consumer generation; all or nothing.
#[utoipa::path(post, path = "/reshaper", tag = "reshaper",
    request_body(content = Object, description = "{inventories: {rp_uuid: {resource_provider_generation, inventories: {CLASS: {total, ...}}}}, allocations: {consumer_uuid: {allocations: {rp_uuid: {resources}}, project_id, user_id, consumer_generation}}}"),
    security(("token" = [])),
    responses((status = 204, description = "Reshaped"),
              (status = 400, description = "A bad body, an unknown resource class or provider"),
              (status = 404, description = "Before microversion 1.30"),
              (status = 409, description = "A stale provider or consumer generation, inventory still in use, or an allocation that does not fit")))]
pub async fn reshape(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Json(b): Json<Value>,
) -> Result<StatusCode, Error> {
    v.require(30)?;
    enforce(&auth, "reshaper")?;
    let obj = body::object(&b, &["inventories", "allocations"])?;
    let mut r = Reshape::default();
    for (uuid, p) in object(body::required(obj, "inventories")?, "inventories")? {
        let uuid = body::uuid("resource provider uuid", uuid)?;
        let p = body::object(p, &["resource_provider_generation", "inventories"])?;
        let mut invs = BTreeMap::new();
        for (class, i) in object(body::required(p, "inventories")?, "inventories")? {
            invs.insert(class.clone(), parse(body::object(i, &FIELDS)?, v)?);
        }
        r.inventories.insert(uuid, (generation(p)?, invs));
    }
    for (consumer, c) in object(body::required(obj, "allocations")?, "allocations")? {
        r.claims
            .push(claim(&body::uuid("consumer_uuid", consumer)?, c, v)?);
    }
    app::reshape(&ctx, &r).await?;
    Ok(StatusCode::NO_CONTENT)
}
