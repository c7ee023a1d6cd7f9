//! `/resource_providers` and `/resource_providers/{uuid}`.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::microversion::Microversion;
use super::{body, query};
use crate::app::enforce;
use crate::app::resource_provider::{self as app, Filter, Model};

/// A provider as Placement shows it at version `v`.
pub fn view(m: &Model, v: Microversion) -> Value {
    let base = format!("/resource_providers/{}", m.uuid);
    let mut links = vec![
        json!({"rel": "self", "href": base}),
        json!({"rel": "inventories", "href": format!("{base}/inventories")}),
        json!({"rel": "usages", "href": format!("{base}/usages")}),
    ];
    if v.at_least(1) {
        links.push(json!({"rel": "aggregates", "href": format!("{base}/aggregates")}));
    }
    if v.at_least(6) {
        links.push(json!({"rel": "traits", "href": format!("{base}/traits")}));
    }
    if v.at_least(11) {
        links.push(json!({"rel": "allocations", "href": format!("{base}/allocations")}));
    }
    let mut out =
        json!({"uuid": m.uuid, "name": m.name, "generation": m.generation, "links": links});
    if v.at_least(14) {
        out["parent_provider_uuid"] = json!(m.parent_uuid);
        out["root_provider_uuid"] = json!(m.root_uuid);
    }
    out
}

/// Lists providers, by `name`, `uuid`, (1.3) `member_of=in:<agg>,...`,
/// (1.4) `resources=VCPU:2,...` (room for every amount), (1.14)
/// `in_tree=<uuid>` and (1.18) `required=A,!B` traits.
#[utoipa::path(get, path = "/resource_providers", tag = "resource_providers",
    params(("name" = Option<String>, Query, description = "Exact name"),
           ("uuid" = Option<String>, Query, description = "Exact uuid"),
           ("member_of" = Option<String>, Query, description = "1.3: an aggregate uuid, or in:<uuid>,<uuid> (repeatable from 1.24; !<uuid> or !in:<uuid>,<uuid> forbids from 1.32)"),
           ("resources" = Option<String>, Query, description = "1.4: CLASS:amount,... the provider must have room for"),
           ("in_tree" = Option<String>, Query, description = "1.14: providers in the same tree as this one"),
           ("required" = Option<String>, Query, description = "1.18: traits the provider must have; 1.22: !TRAIT it must not")),
    security(("token" = [])),
    responses((status = 200, description = "The providers", body = Object),
              (status = 400, description = "A bad query parameter")))]
pub async fn list_resource_providers(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "resource_providers")?;
    let mut allowed = vec!["name", "uuid"];
    for (minor, key) in [
        (3, "member_of"),
        (4, "resources"),
        (14, "in_tree"),
        (18, "required"),
    ] {
        if v.at_least(minor) {
            allowed.push(key);
        }
    }
    body::query(&q, &allowed)?;
    let mut filter = Filter {
        name: body::param(&q, "name").map(str::to_owned),
        uuid: body::param(&q, "uuid")
            .map(|u| body::uuid("uuid", u))
            .transpose()?,
        root: None,
        ..Filter::default()
    };
    let member_of: Vec<&String> = q
        .iter()
        .filter(|(k, _)| k == "member_of")
        .map(|(_, v)| v)
        .collect();
    if member_of.len() > 1 && !v.at_least(24) {
        return Err(Error::BadRequest(
            "Invalid query string parameters: 'member_of' given more than once (allowed from 1.24)"
                .into(),
        ));
    }
    for raw in member_of {
        match query::member_of_or_not("member_of", raw, v.at_least(32))? {
            query::MemberOf::AnyOf(any) => filter.member_of.push(any),
            query::MemberOf::NoneOf(none) => filter.not_member_of.extend(none),
        }
    }
    if let Some(t) = body::param(&q, "in_tree") {
        let t = body::uuid("in_tree", t)?;
        match app::root_of(&ctx, &t).await? {
            Some(root) => filter.root = Some(root),
            None => return Ok(Json(json!({"resource_providers": []}))),
        }
    }
    let resources = body::param(&q, "resources")
        .map(query::resources)
        .transpose()?;
    let required: Vec<&str> = q
        .iter()
        .filter(|(k, _)| k == "required")
        .map(|(_, v)| v.as_str())
        .collect();
    let traits = query::traits("required", &required, v.at_least(22), v.at_least(39))?;
    let all = app::list(&ctx, &filter, resources.as_ref(), &traits).await?;
    Ok(Json(
        json!({"resource_providers": all.iter().map(|m| view(m, v)).collect::<Vec<_>>()}),
    ))
}

/// Creates a provider (`name`, optional `uuid`, 1.14 optional
/// `parent_provider_uuid`): 201 with its Location.
#[utoipa::path(post, path = "/resource_providers", tag = "resource_providers",
    request_body(content = Object, description = "{name, uuid?, parent_provider_uuid? (1.14)}"),
    security(("token" = [])),
    responses((status = 201, description = "Created (before 1.20)", headers(("Location" = String, description = "The provider's URL"))),
              (status = 200, description = "Created, with the provider (1.20)", body = Object),
              (status = 400, description = "A bad body"),
              (status = 409, description = "The name or uuid is taken")))]
pub async fn create_resource_provider(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    headers: HeaderMap,
    Json(b): Json<Value>,
) -> Result<Response, Error> {
    enforce(&auth, "resource_providers")?;
    let keys: &[&str] = if v.at_least(14) {
        &["name", "uuid", "parent_provider_uuid"]
    } else {
        &["name", "uuid"]
    };
    let obj = body::object(&b, keys)?;
    let name = body::string("name", body::required(obj, "name")?, 200)?;
    let uuid = match obj.get("uuid") {
        None => None,
        Some(u) => Some(body::uuid("uuid", u.as_str().unwrap_or_default())?),
    };
    let parent = parent(obj)?.flatten();
    let m = app::create(&ctx, name, uuid, parent).await?;
    let location = format!("{}/resource_providers/{}", ctx.base_url(&headers), m.uuid);
    // 1.20: 200 with the provider, so a client needs no second request.
    let resp = if v.at_least(20) {
        (StatusCode::OK, Json(view(&m, v))).into_response()
    } else {
        StatusCode::CREATED.into_response()
    };
    super::located(resp, &location)
}

/// Shows a provider.
#[utoipa::path(get, path = "/resource_providers/{uuid}", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    security(("token" = [])),
    responses((status = 200, description = "The provider", body = Object),
              (status = 404, description = "No such provider")))]
pub async fn show_resource_provider(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "resource_providers")?;
    Ok(Json(view(&app::get(&ctx, &uuid).await?, v)))
}

/// `parent_provider_uuid`: absent, null, or a uuid.
fn parent(obj: &serde_json::Map<String, Value>) -> Result<Option<Option<String>>, Error> {
    match obj.get("parent_provider_uuid") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(p) => Ok(Some(Some(body::uuid(
            "parent_provider_uuid",
            p.as_str().unwrap_or_default(),
        )?))),
    }
}

/// Renames a provider (`{"name": ...}`) and (1.14) gives a root provider a
/// parent (`parent_provider_uuid`); from 1.37 moves any provider, its
/// descendants with it, to another parent or (null) makes it a root.
#[utoipa::path(put, path = "/resource_providers/{uuid}", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    request_body(content = Object, description = "{name, parent_provider_uuid? (1.14)}"),
    security(("token" = [])),
    responses((status = 200, description = "The provider", body = Object),
              (status = 400, description = "A bad body, a loop, or a move before 1.37"),
              (status = 404, description = "No such provider"),
              (status = 409, description = "The name is taken")))]
pub async fn update_resource_provider(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Extension(v): Extension<Microversion>,
    Path(uuid): Path<String>,
    Json(b): Json<Value>,
) -> Result<Json<Value>, Error> {
    enforce(&auth, "resource_providers")?;
    let keys: &[&str] = if v.at_least(14) {
        &["name", "parent_provider_uuid"]
    } else {
        &["name"]
    };
    let obj = body::object(&b, keys)?;
    let name = body::string("name", body::required(obj, "name")?, 200)?;
    let parent = parent(obj)?;
    Ok(Json(view(
        &app::update(&ctx, &uuid, &name, parent, v.at_least(37)).await?,
        v,
    )))
}

/// Deletes a provider with its inventories; 409 while it has children or
/// allocations.
#[utoipa::path(delete, path = "/resource_providers/{uuid}", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    security(("token" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "No such provider"),
              (status = 409, description = "It has child providers or allocations")))]
pub async fn delete_resource_provider(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(uuid): Path<String>,
) -> Result<StatusCode, Error> {
    enforce(&auth, "resource_providers")?;
    app::delete(&ctx, &uuid).await?;
    Ok(StatusCode::NO_CONTENT)
}
