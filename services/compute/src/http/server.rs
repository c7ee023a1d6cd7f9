//! `/v2.1/servers`: create, list (brief and detail), show and delete.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha224};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use crate::app::server::{self as app, ListQuery};
use crate::app::server_state;
use crate::app::{flavor, server_input, service};
use crate::db::instance::Model;
use virga_protocol::agent::hostname;

fn links(base: &str, kind: &str, id: &str) -> Value {
    json!([
        {"rel": "self", "href": format!("{base}/v2.1/{kind}/{id}")},
        {"rel": "bookmark", "href": format!("{base}/{kind}/{id}")},
    ])
}

fn brief(base: &str, m: &Model) -> Value {
    json!({"id": m.id, "name": m.name, "links": links(base, "servers", &m.id)})
}

/// Nova's `hostId`: the node hashed with the project, so a project can
/// tell its servers apart by node without learning the node.
fn host_id(m: &Model) -> String {
    match &m.node_id {
        Some(n) => {
            let d = Sha224::digest(format!("{}{n}", m.project_id));
            d.iter().map(|b| format!("{b:02x}")).collect()
        }
        None => String::new(),
    }
}

/// The security groups' names (the default one when none were asked).
fn groups(m: &Model) -> Value {
    let asked: Vec<Value> = serde_json::from_str(&m.security_groups).unwrap_or_default();
    if asked.is_empty() {
        return json!([{"name": "default"}]);
    }
    json!(
        asked
            .iter()
            .map(|g| json!({"name": g["name"]}))
            .collect::<Vec<_>>()
    )
}

/// Nova's `addresses`: each network's name -> its fixed addresses.
fn addresses(m: &Model) -> Value {
    let info: Vec<Value> = serde_json::from_str(&m.network_info).unwrap_or_default();
    let mut out = serde_json::Map::new();
    for p in &info {
        let name = p["network_name"].as_str().unwrap_or_default().to_owned();
        let list = out.entry(name).or_insert_with(|| json!([]));
        for ip in p["ips"].as_array().into_iter().flatten() {
            let Some(addr) = ip.as_str() else { continue };
            let version = if addr.contains(':') { 6 } else { 4 };
            if let Some(l) = list.as_array_mut() {
                l.push(json!({"version": version, "addr": addr,
                    "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": p["mac"]}));
            }
        }
    }
    Value::Object(out)
}

/// Nodes' `host_status` by uuid (2.16), for those who may see them.
pub type HostStatuses = Option<BTreeMap<String, &'static str>>;

/// A server as Nova shows it at `at`; admins also see where it runs (from
/// 2.3 with the rest of the extended attributes); with `hosts`, its
/// node's status (2.16).
pub fn view(base: &str, m: &Model, admin: bool, at: Microversion, hosts: &HostStatuses) -> Value {
    let time = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut v = json!({
        "id": m.id,
        "name": m.name,
        "status": server_state::status(m),
        "tenant_id": m.project_id,
        "user_id": m.user_id,
        "metadata": serde_json::from_str::<Value>(&m.metadata).unwrap_or(json!({})),
        "hostId": host_id(m),
        "image": {"id": m.image_id, "links": [{"rel": "bookmark", "href": format!("{base}/images/{}", m.image_id)}]},
        "flavor": {"id": m.flavor_id, "links": [{"rel": "bookmark", "href": format!("{base}/flavors/{}", m.flavor_id)}]},
        "created": time(&m.created_at),
        "updated": time(&m.updated_at),
        "addresses": addresses(m),
        "accessIPv4": "",
        "accessIPv6": "",
        "links": links(base, "servers", &m.id),
        "OS-DCF:diskConfig": "MANUAL",
        "progress": 0,
        "OS-EXT-AZ:availability_zone": m.availability_zone.clone().unwrap_or_default(),
        "config_drive": "",
        "key_name": m.key_name,
        "OS-SRV-USG:launched_at": m.launched_at.as_ref().map(super::nova_time),
        "OS-SRV-USG:terminated_at": m.deleted_at.as_ref().map(super::nova_time),
        "OS-EXT-STS:task_state": m.task_state,
        "OS-EXT-STS:vm_state": m.vm_state,
        "OS-EXT-STS:power_state": m.power_state,
        "os-extended-volumes:volumes_attached": [],
        "security_groups": groups(m),
    });
    if at.at_least(9) {
        v["locked"] = json!(m.locked);
    }
    if at.at_least(19) {
        v["description"] = json!(m.description);
    }
    if let Some(hosts) = hosts {
        let status = m
            .node_id
            .as_ref()
            .map_or("", |n| hosts.get(n).copied().unwrap_or("UNKNOWN"));
        v["host_status"] = json!(status);
    }
    if admin {
        v["OS-EXT-SRV-ATTR:host"] = json!(m.node_id);
        v["OS-EXT-SRV-ATTR:hypervisor_hostname"] = json!(m.node_id);
        v["OS-EXT-SRV-ATTR:instance_name"] = json!(format!("instance-{}", m.id));
    }
    if admin && at.at_least(3) {
        // No kernel or ramdisk images here; the root disk is the first
        // virtio disk once the server has a node.
        for (k, x) in [
            ("reservation_id", json!(m.reservation_id)),
            ("launch_index", json!(m.launch_index)),
            ("hostname", json!(hostname(&m.name))),
            ("kernel_id", json!("")),
            ("ramdisk_id", json!("")),
            (
                "root_device_name",
                json!(m.node_id.as_ref().map(|_| "/dev/vda")),
            ),
            ("user_data", json!(m.user_data)),
        ] {
            v[format!("OS-EXT-SRV-ATTR:{k}")] = x;
        }
    }
    if let Some(f) = m
        .fault
        .as_deref()
        .and_then(|f| serde_json::from_str::<Value>(f).ok())
    {
        let mut fault =
            json!({"code": f["code"], "message": f["message"], "created": f["created"]});
        if admin {
            fault["details"] = f["details"].clone();
        }
        v["fault"] = fault;
    }
    v
}

fn query(pairs: &[(String, String)]) -> ListQuery {
    let mut q = ListQuery::default();
    for (k, v) in pairs {
        match k.as_str() {
            "all_tenants" => q.all_tenants = !matches!(v.as_str(), "0" | "false" | "False"),
            "project_id" | "tenant_id" => q.project_id = Some(v.clone()),
            "name" => q.name = Some(v.clone()),
            "status" => q.status = Some(v.clone()),
            "changes-since" => q.changes_since = Some(v.clone()),
            "deleted" => q.deleted = matches!(v.as_str(), "1" | "true" | "True"),
            "limit" => q.limit = Some(v.clone()),
            "marker" => q.marker = Some(v.clone()),
            _ => {}
        }
    }
    q
}

/// A page of servers: brief, or (`detail`) every attribute at that
/// version.
async fn page(
    ctx: &ServiceContext,
    auth: &Auth,
    headers: &HeaderMap,
    pairs: &[(String, String)],
    path: &str,
    detail: Option<Microversion>,
    site: Option<String>,
) -> Result<Json<Value>, Error> {
    let base = ctx.base_url(headers);
    let mut q = query(pairs);
    q.site = site;
    let rows = app::list(ctx, auth, &q).await?;
    let admin = flavor::is_admin(auth);
    let hosts = match detail {
        Some(at) => service::host_statuses_for(ctx, auth, at).await?,
        None => None,
    };
    let shown: Vec<Value> = rows
        .iter()
        .map(|m| match detail {
            Some(at) => view(&base, m, admin, at, &hosts),
            None => brief(&base, m),
        })
        .collect();
    let mut out = json!({ "servers": shown });
    let limit = q.limit.as_deref().and_then(|l| l.parse::<usize>().ok());
    if let Some(last) = rows.last().filter(|_| Some(rows.len()) == limit) {
        out["servers_links"] = super::next_link(&base, path, pairs, &last.id);
    }
    Ok(Json(out))
}

/// Lists the caller's servers (admins: `all_tenants=1` for every
/// project's), newest first.
#[utoipa::path(get, path = "/v2.1/servers", tag = "servers",
    params(("all_tenants" = Option<String>, Query, description = "Admins: every project's"),
           ("project_id" = Option<String>, Query, description = "Admins: this project's"),
           ("name" = Option<String>, Query, description = "A regular expression the name matches (any case)"),
           ("status" = Option<String>, Query, description = "BUILD, ACTIVE, SHUTOFF, PAUSED, ERROR or DELETED"),
           ("changes-since" = Option<String>, Query, description = "Changed since (ISO 8601); deleted ones included"),
           ("limit" = Option<u32>, Query, description = "Page size (at most 1000)"),
           ("marker" = Option<String>, Query, description = "The last server of the previous page")),
    security(("token" = [])),
    responses((status = 200, description = "{\"servers\": [{id, name, links}]}", body = Object),
              (status = 400, description = "A bad filter, limit or marker")))]
pub async fn list_servers(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    page(&ctx, &auth, &headers, &pairs, "/v2.1/servers", None, None).await
}

/// Lists the caller's servers with every attribute.
#[utoipa::path(get, path = "/v2.1/servers/detail", tag = "servers",
    params(("all_tenants" = Option<String>, Query, description = "Admins: every project's"),
           ("project_id" = Option<String>, Query, description = "Admins: this project's"),
           ("name" = Option<String>, Query, description = "A regular expression the name matches (any case)"),
           ("status" = Option<String>, Query, description = "BUILD, ACTIVE, SHUTOFF, PAUSED, ERROR or DELETED"),
           ("changes-since" = Option<String>, Query, description = "Changed since (ISO 8601); deleted ones included"),
           ("limit" = Option<u32>, Query, description = "Page size (at most 1000)"),
           ("marker" = Option<String>, Query, description = "The last server of the previous page")),
    security(("token" = [])),
    responses((status = 200, description = "{\"servers\": [server]}", body = Object),
              (status = 400, description = "A bad filter, limit or marker")))]
pub async fn list_servers_detail(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    page(
        &ctx,
        &auth,
        &headers,
        &pairs,
        "/v2.1/servers/detail",
        Some(v),
        None,
    )
    .await
}

/// Lists the servers on one edge site (by its name or uuid), with every
/// attribute: the caller's project's (admins: `all_tenants=1` for every
/// project's). Virga's own path: Nova has no such view.
#[utoipa::path(get, path = "/compute/v1/sites/{site}/servers", tag = "servers",
    params(("site" = String, Path, description = "The site's name (availability zone) or uuid"),
           ("all_tenants" = Option<String>, Query, description = "Admins: every project's"),
           ("status" = Option<String>, Query, description = "BUILD, ACTIVE, SHUTOFF, PAUSED, ERROR or DELETED"),
           ("limit" = Option<u32>, Query, description = "Page size (at most 1000)"),
           ("marker" = Option<String>, Query, description = "The last server of the previous page")),
    security(("token" = [])),
    responses((status = 200, description = "{\"servers\": [server]}", body = Object),
              (status = 404, description = "No such site")))]
pub async fn list_site_servers(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(site): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let uuid = crate::app::site::find(&ctx, &site)
        .await?
        .ok_or_else(|| Error::Missing {
            kind: "Site",
            message: format!("Site {site} could not be found."),
        })?;
    let path = format!("/compute/v1/sites/{site}/servers");
    page(&ctx, &auth, &headers, &pairs, &path, Some(v), Some(uuid)).await
}

/// Creates servers (`min_count`..`max_count` of them, scheduled all or
/// none); they are built in the background: poll until ACTIVE or ERROR.
#[utoipa::path(post, path = "/v2.1/servers", tag = "servers",
    request_body(content = Object, description = "{\"server\": {name, imageRef, flavorRef, key_name?, user_data?, metadata?, availability_zone?, min_count?, max_count?, return_reservation_id?}, \"os:scheduler_hints\"?: {group?}}"),
    security(("token" = [])),
    responses((status = 202, description = "{\"server\": {id, links, OS-DCF:diskConfig, security_groups}} or {\"reservation_id\"}", body = Object),
              (status = 400, description = "A bad body, or an unknown flavor, image, key pair, group or zone"),
              (status = 403, description = "Over quota (the resource named)")))]
pub async fn create_server(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let new = server_input::parse(&body, v)?;
    let reservation = new.return_reservation_id;
    let made = app::create(&ctx, &auth, new).await?;
    if reservation {
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"reservation_id": made.reservation_id})),
        ));
    }
    let base = ctx.base_url(&headers);
    let m = &made.servers[0];
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"server": {
            "id": m.id,
            "links": links(&base, "servers", &m.id),
            "OS-DCF:diskConfig": "MANUAL",
            "security_groups": groups(m),
        }})),
    ))
}

/// Shows a server.
#[utoipa::path(get, path = "/v2.1/servers/{server_id}", tag = "servers",
    params(("server_id" = String, Path, description = "The server")),
    security(("token" = [])),
    responses((status = 200, description = "{\"server\": {...}}", body = Object),
              (status = 404, description = "No such server the caller may see")))]
pub async fn show_server(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let m = app::visible(&ctx, &auth, &id).await?;
    let hosts = service::host_statuses_for(&ctx, &auth, v).await?;
    let base = ctx.base_url(&headers);
    Ok(Json(
        json!({"server": view(&base, &m, flavor::is_admin(&auth), v, &hosts)}),
    ))
}

/// Renames a server.
#[utoipa::path(put, path = "/v2.1/servers/{server_id}", tag = "servers",
    params(("server_id" = String, Path, description = "The server")),
    request_body(content = Object, description = "{\"server\": {name?}}"),
    security(("token" = [])),
    responses((status = 200, description = "{\"server\": {...}}", body = Object),
              (status = 400, description = "A bad name or an unknown attribute"),
              (status = 404, description = "No such server the caller may see")))]
pub async fn update_server(
    auth: Auth,
    v: Microversion,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, Error> {
    let m = app::update(&ctx, &auth, &id, &body, v).await?;
    let base = ctx.base_url(&headers);
    Ok(Json(
        json!({"server": view(&base, &m, flavor::is_admin(&auth), v, &None)}),
    ))
}

/// Deletes a server: its node destroys the guest, then its claim is
/// released; it shows `task_state: deleting` until the node confirms.
#[utoipa::path(delete, path = "/v2.1/servers/{server_id}", tag = "servers",
    params(("server_id" = String, Path, description = "The server")),
    security(("token" = [])),
    responses((status = 204, description = "Deletion accepted"),
              (status = 404, description = "No such server the caller may see"),
              (status = 409, description = "Locked, or in a state that cannot be deleted")))]
pub async fn delete_server(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app::delete(&ctx, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
