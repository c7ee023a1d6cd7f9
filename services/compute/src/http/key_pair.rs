//! `/v2.1/os-keypairs`: the caller's SSH key pairs.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::key_pair as app;
use crate::db::key_pair::Model;

/// A key pair as Nova shows it.
fn brief(m: &Model) -> Value {
    json!({"name": m.name, "public_key": m.public_key, "fingerprint": m.fingerprint})
}

/// Lists the caller's key pairs.
#[utoipa::path(get, path = "/v2.1/os-keypairs", tag = "keypairs",
    security(("token" = [])),
    responses((status = 200, description = "{\"keypairs\": [{\"keypair\": {...}}]}", body = Object)))]
pub async fn list_keypairs(
    auth: Auth,
    State(ctx): State<ServiceContext>,
) -> Result<Json<Value>, Error> {
    let rows = app::list(&ctx, &auth).await?;
    Ok(Json(json!({
        "keypairs": rows.iter().map(|m| json!({"keypair": brief(m)})).collect::<Vec<_>>()
    })))
}

/// Imports a public key, or (without `public_key`) makes an Ed25519 key
/// pair and returns its private key, which is not kept.
#[utoipa::path(post, path = "/v2.1/os-keypairs", tag = "keypairs",
    request_body(content = Object, description = "{\"keypair\": {\"name\": \"...\", \"public_key\": \"ssh-ed25519 ...\"}}"),
    security(("token" = [])),
    responses((status = 200, description = "The key pair (with `private_key` when made here)", body = Object),
              (status = 400, description = "A bad name or public key"),
              (status = 403, description = "Over the key pair limit"),
              (status = 409, description = "The caller has a key pair by that name")))]
pub async fn create_keypair(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    let (name, public_key) = app::parse_create(&body)?;
    let made = app::create(&ctx, &auth, &name, public_key).await?;
    let mut v = brief(&made.key_pair);
    v["user_id"] = json!(made.key_pair.user_id);
    if let Some(private) = made.private_key {
        v["private_key"] = json!(private);
    }
    Ok(Json(json!({ "keypair": v })))
}

/// Shows one of the caller's key pairs.
#[utoipa::path(get, path = "/v2.1/os-keypairs/{keypair_name}", tag = "keypairs",
    params(("keypair_name" = String, Path, description = "The key pair's name")),
    security(("token" = [])),
    responses((status = 200, description = "The key pair", body = Object),
              (status = 404, description = "The caller has none by that name")))]
pub async fn show_keypair(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Error> {
    let m = app::get(&ctx, &auth, &name).await?;
    let mut v = brief(&m);
    for (k, x) in [
        ("user_id", json!(m.user_id)),
        ("id", json!(m.id)),
        ("created_at", json!(super::nova_time(&m.created_at))),
        ("updated_at", Value::Null),
        ("deleted_at", Value::Null),
        ("deleted", json!(false)),
    ] {
        v[k] = x;
    }
    Ok(Json(json!({ "keypair": v })))
}

/// Deletes one of the caller's key pairs.
#[utoipa::path(delete, path = "/v2.1/os-keypairs/{keypair_name}", tag = "keypairs",
    params(("keypair_name" = String, Path, description = "The key pair's name")),
    security(("token" = [])),
    responses((status = 202, description = "Deleted"),
              (status = 404, description = "The caller has none by that name")))]
pub async fn delete_keypair(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(name): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &name).await?;
    Ok(StatusCode::ACCEPTED)
}
