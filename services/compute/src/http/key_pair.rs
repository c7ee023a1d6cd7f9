//! `/v2.1/os-keypairs`: users' key pairs (`type` from microversion 2.2,
//! another user's for admins from 2.10).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use crate::app::key_pair as app;
use crate::db::key_pair::Model;

/// `?user_id=`, read from 2.10 (before, Nova ignores it).
#[derive(Debug, Default, Deserialize)]
pub struct UserQuery {
    user_id: Option<String>,
}

impl UserQuery {
    fn at(&self, v: Microversion) -> Option<&str> {
        self.user_id.as_deref().filter(|_| v.at_least(10))
    }
}

/// A key pair as Nova shows it at `v`.
fn brief(m: &Model, v: Microversion) -> Value {
    let mut out = json!({"name": m.name, "public_key": m.public_key, "fingerprint": m.fingerprint});
    if v.at_least(2) {
        out["type"] = json!(m.kind);
    }
    out
}

/// Lists the caller's key pairs (2.10: an admin, another user's).
#[utoipa::path(get, path = "/v2.1/os-keypairs", tag = "keypairs",
    params(("user_id" = Option<String>, Query, description = "2.10, admins: this user's")),
    security(("token" = [])),
    responses((status = 200, description = "{\"keypairs\": [{\"keypair\": {...}}]}", body = Object),
              (status = 403, description = "Another user's, asked by no admin")))]
pub async fn list_keypairs(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Query(q): Query<UserQuery>,
) -> Result<Json<Value>, Error> {
    let rows = app::list(&ctx, &auth, q.at(v)).await?;
    Ok(Json(json!({
        "keypairs": rows.iter().map(|m| json!({"keypair": brief(m, v)})).collect::<Vec<_>>()
    })))
}

/// Imports a public key (2.2: or an X.509 certificate, `type: x509`), or
/// without `public_key` makes a pair and returns its private key, which
/// is not kept. 2.10: an admin may make one for `user_id`.
#[utoipa::path(post, path = "/v2.1/os-keypairs", tag = "keypairs",
    request_body(content = Object, description = "{\"keypair\": {\"name\": \"...\", \"public_key\": \"ssh-ed25519 ...\", \"type\": \"ssh\", \"user_id\": \"...\"}}"),
    security(("token" = [])),
    responses((status = 200, description = "The key pair (with `private_key` when made here), before 2.2", body = Object),
              (status = 201, description = "The same, from 2.2"),
              (status = 400, description = "A bad name, type or public key"),
              (status = 403, description = "Over the key pair limit, or another user's asked by no admin"),
              (status = 409, description = "The user has a key pair by that name")))]
pub async fn create_keypair(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let new = app::parse_create(&body, v.at_least(2), v.at_least(10))?;
    let made = app::create(&ctx, &auth, new).await?;
    let mut out = brief(&made.key_pair, v);
    out["user_id"] = json!(made.key_pair.user_id);
    if let Some(private) = made.private_key {
        out["private_key"] = json!(private);
    }
    let status = if v.at_least(2) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({ "keypair": out }))))
}

/// Shows one of the caller's key pairs (2.10: an admin, another user's).
#[utoipa::path(get, path = "/v2.1/os-keypairs/{keypair_name}", tag = "keypairs",
    params(("keypair_name" = String, Path, description = "The key pair's name"),
           ("user_id" = Option<String>, Query, description = "2.10, admins: this user's")),
    security(("token" = [])),
    responses((status = 200, description = "The key pair", body = Object),
              (status = 404, description = "The user has none by that name")))]
pub async fn show_keypair(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Path(name): Path<String>,
    Query(q): Query<UserQuery>,
) -> Result<Json<Value>, Error> {
    let m = app::get(&ctx, &auth, &name, q.at(v)).await?;
    let mut out = brief(&m, v);
    for (k, x) in [
        ("user_id", json!(m.user_id)),
        ("id", json!(m.id)),
        ("created_at", json!(super::nova_time(&m.created_at))),
        ("updated_at", Value::Null),
        ("deleted_at", Value::Null),
        ("deleted", json!(false)),
    ] {
        out[k] = x;
    }
    Ok(Json(json!({ "keypair": out })))
}

/// Deletes one of the caller's key pairs (2.10: an admin, another
/// user's).
#[utoipa::path(delete, path = "/v2.1/os-keypairs/{keypair_name}", tag = "keypairs",
    params(("keypair_name" = String, Path, description = "The key pair's name"),
           ("user_id" = Option<String>, Query, description = "2.10, admins: this user's")),
    security(("token" = [])),
    responses((status = 202, description = "Deleted, before 2.2"),
              (status = 204, description = "Deleted, from 2.2"),
              (status = 404, description = "The user has none by that name")))]
pub async fn delete_keypair(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    Path(name): Path<String>,
    Query(q): Query<UserQuery>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &name, q.at(v)).await?;
    Ok(if v.at_least(2) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::ACCEPTED
    })
}
