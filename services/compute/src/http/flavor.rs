//! `/v2.1/flavors`: the sizes servers come in; `/v2.1/flavors/{id}/action`
//! grants and revokes a private flavor's projects.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::flavor_access::access_view;
use crate::app::flavor::{self as app, ListQuery};
use crate::app::{flavor_access, input};
use crate::db::flavor::Model;

fn links(base: &str, id: &str) -> Value {
    json!([
        {"rel": "self", "href": format!("{base}/v2.1/flavors/{id}")},
        {"rel": "bookmark", "href": format!("{base}/flavors/{id}")},
    ])
}

/// A flavor as Nova shows it at 2.1 (`swap` is `""` when 0).
pub fn view(base: &str, m: &Model) -> Value {
    json!({
        "id": m.id, "name": m.name, "ram": m.memory_mb, "disk": m.root_gb, "vcpus": m.vcpus,
        "swap": if m.swap == 0 { json!("") } else { json!(m.swap) },
        "OS-FLV-EXT-DATA:ephemeral": m.ephemeral_gb,
        "OS-FLV-DISABLED:disabled": m.disabled,
        "os-flavor-access:is_public": m.is_public,
        "rxtx_factor": m.rxtx_factor,
        "links": links(base, &m.id),
    })
}

fn brief(base: &str, m: &Model) -> Value {
    json!({"id": m.id, "name": m.name, "links": links(base, &m.id)})
}

async fn page(
    ctx: &ServiceContext,
    auth: &Auth,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    path: &str,
    render: fn(&str, &Model) -> Value,
) -> Result<Json<Value>, Error> {
    let base = ctx.base_url(headers);
    let (rows, limit) = app::list(ctx, auth, &ListQuery::from_pairs(pairs)).await?;
    let mut out = json!({"flavors": rows.iter().map(|m| render(&base, m)).collect::<Vec<_>>()});
    // A full page may have more after it: Nova links the next one.
    if let Some(last) = rows.last().filter(|_| rows.len() == limit) {
        out["flavors_links"] = super::next_link(&base, path, pairs, &last.id);
    }
    Ok(Json(out))
}

/// Lists the flavors the caller may use (an admin: with `is_public=none`
/// every one): ids, names and links.
#[utoipa::path(get, path = "/v2.1/flavors", tag = "flavors",
    params(("is_public" = Option<String>, Query, description = "Admins: true (default), false or none (all)"),
           ("minRam" = Option<u32>, Query, description = "Only flavors with at least this much RAM (MiB)"),
           ("minDisk" = Option<u32>, Query, description = "Only flavors with at least this much root disk (GiB)"),
           ("sort_key" = Option<String>, Query, description = "An attribute to sort by (default flavorid)"),
           ("sort_dir" = Option<String>, Query, description = "asc (default) or desc"),
           ("limit" = Option<u32>, Query, description = "Page size (at most 1000)"),
           ("marker" = Option<String>, Query, description = "The last flavor of the previous page")),
    security(("token" = [])),
    responses((status = 200, description = "Flavors", body = Object),
              (status = 400, description = "A bad filter, sort key, limit or marker")))]
pub async fn list_flavors(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    page(&ctx, &auth, &headers, &pairs, "/v2.1/flavors", brief).await
}

/// Lists the flavors the caller may use, with every attribute.
#[utoipa::path(get, path = "/v2.1/flavors/detail", tag = "flavors",
    params(("is_public" = Option<String>, Query, description = "Admins: true (default), false or none (all)"),
           ("minRam" = Option<u32>, Query, description = "Only flavors with at least this much RAM (MiB)"),
           ("minDisk" = Option<u32>, Query, description = "Only flavors with at least this much root disk (GiB)"),
           ("sort_key" = Option<String>, Query, description = "An attribute to sort by (default flavorid)"),
           ("sort_dir" = Option<String>, Query, description = "asc (default) or desc"),
           ("limit" = Option<u32>, Query, description = "Page size (at most 1000)"),
           ("marker" = Option<String>, Query, description = "The last flavor of the previous page")),
    security(("token" = [])),
    responses((status = 200, description = "Flavors in detail", body = Object),
              (status = 400, description = "A bad filter, sort key, limit or marker")))]
pub async fn list_flavors_detail(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    page(&ctx, &auth, &headers, &pairs, "/v2.1/flavors/detail", view).await
}

/// Shows a flavor: a public one, or a private one shared with the
/// caller's project (admins: any); else 404.
#[utoipa::path(get, path = "/v2.1/flavors/{flavor_id}", tag = "flavors",
    params(("flavor_id" = String, Path, description = "The flavor")),
    security(("token" = [])),
    responses((status = 200, description = "The flavor", body = Object),
              (status = 404, description = "No such flavor, or not shared with the caller")))]
pub async fn show_flavor(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let m = app::visible(&ctx, &auth, &id).await?;
    Ok(Json(json!({"flavor": view(&ctx.base_url(&headers), &m)})))
}

/// Creates a flavor (admins). Without an `id` (or with `null`) it gets a
/// UUID; names and ids are unique (409).
#[utoipa::path(post, path = "/v2.1/flavors", tag = "flavors",
    request_body(content = Object, description = "{\"flavor\": {\"name\", \"ram\", \"vcpus\", \"disk\", ...}}"),
    security(("token" = [])),
    responses((status = 200, description = "The new flavor", body = Object),
              (status = 400, description = "A missing, unknown or bad attribute"),
              (status = 403, description = "Not an admin"),
              (status = 409, description = "The name or id is taken")))]
pub async fn create_flavor(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    let new = app::parse_create(&body)?;
    let m = app::create(&ctx, &auth, new).await?;
    Ok(Json(json!({"flavor": view(&ctx.base_url(&headers), &m)})))
}

/// Deletes a flavor (admins), with its extra specs and access list.
#[utoipa::path(delete, path = "/v2.1/flavors/{flavor_id}", tag = "flavors",
    params(("flavor_id" = String, Path, description = "The flavor")),
    security(("token" = [])),
    responses((status = 202, description = "Deleted"),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such flavor")))]
pub async fn delete_flavor(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `addTenantAccess` / `removeTenantAccess` (admins): shares a private
/// flavor with a project, or stops; answers the access list.
#[utoipa::path(post, path = "/v2.1/flavors/{flavor_id}/action", tag = "flavors",
    params(("flavor_id" = String, Path, description = "The flavor")),
    request_body(content = Object, description = "{\"addTenantAccess\": {\"tenant\": \"<project>\"}} or {\"removeTenantAccess\": {...}}"),
    security(("token" = [])),
    responses((status = 200, description = "The flavor's access list", body = Object),
              (status = 400, description = "An unknown action, or a project identity does not know"),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such flavor, or the project had no access"),
              (status = 409, description = "A public flavor, or the project already has access")))]
pub async fn flavor_action(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    let (action, args) = body
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.iter().next())
        .ok_or_else(|| Error::BadRequest("Invalid request body: one action expected.".into()))?;
    let allowed: &[&str] = &["tenant"];
    let wrapped = json!({ action.as_str(): args });
    let tenant = || -> Result<String, Error> {
        let o = input::object(&wrapped, action, allowed)?;
        let t = input::required(o, "tenant")?;
        t.as_str()
            .filter(|s| (1..=255).contains(&s.len()))
            .map(str::to_owned)
            .ok_or_else(|| input::invalid("tenant", t, "It is not a project id."))
    };
    let projects = match action.as_str() {
        "addTenantAccess" => flavor_access::add(&ctx, &auth, &id, &tenant()?).await?,
        "removeTenantAccess" => flavor_access::remove(&ctx, &auth, &id, &tenant()?).await?,
        other => {
            return Err(Error::BadRequest(format!(
                "There is no such action: {other}"
            )));
        }
    };
    Ok(Json(access_view(&id, &projects)))
}
