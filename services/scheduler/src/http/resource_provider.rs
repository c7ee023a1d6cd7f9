//! `/resource_providers` and `/resource_providers/{uuid}`.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::body;
use super::microversion::Microversion;
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
    json!({"uuid": m.uuid, "name": m.name, "generation": m.generation, "links": links})
}

/// Lists providers, by `name`, `uuid`, (1.3) `member_of=in:<agg>,...`
/// and (1.4) `resources=VCPU:2,...` (room for every amount).
#[utoipa::path(get, path = "/resource_providers", tag = "resource_providers",
    params(("name" = Option<String>, Query, description = "Exact name"),
           ("uuid" = Option<String>, Query, description = "Exact uuid"),
           ("member_of" = Option<String>, Query, description = "1.3: an aggregate uuid, or in:<uuid>,<uuid>"),
           ("resources" = Option<String>, Query, description = "1.4: CLASS:amount,... the provider must have room for")),
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
    let allowed: &[&str] = match (v.at_least(3), v.at_least(4)) {
        (_, true) => &["name", "uuid", "member_of", "resources"],
        (true, false) => &["name", "uuid", "member_of"],
        _ => &["name", "uuid"],
    };
    body::query(&q, allowed)?;
    let filter = Filter {
        name: body::param(&q, "name").map(str::to_owned),
        uuid: body::param(&q, "uuid")
            .map(|u| body::uuid("uuid", u))
            .transpose()?,
        member_of: body::param(&q, "member_of").map(member_of).transpose()?,
    };
    let resources = body::param(&q, "resources").map(resources).transpose()?;
    let all = app::list(&ctx, &filter, resources.as_ref()).await?;
    Ok(Json(
        json!({"resource_providers": all.iter().map(|m| view(m, v)).collect::<Vec<_>>()}),
    ))
}

/// `VCPU:2,MEMORY_MB:512` as class → amount.
pub fn resources(raw: &str) -> Result<std::collections::BTreeMap<String, i64>, Error> {
    let bad = || {
        Error::BadRequest(format!(
            "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: {raw}."
        ))
    };
    let mut out = std::collections::BTreeMap::new();
    for part in raw.split(',') {
        let (class, n) = part.split_once(':').ok_or_else(bad)?;
        let n: i64 = n.trim().parse().map_err(|_| bad())?;
        if class.trim().is_empty() || n < 1 {
            return Err(bad());
        }
        out.insert(class.trim().to_owned(), n);
    }
    Ok(out)
}

fn member_of(raw: &str) -> Result<Vec<String>, Error> {
    let list = raw.strip_prefix("in:").unwrap_or(raw);
    list.split(',')
        .map(|u| body::uuid("member_of", u.trim()))
        .collect()
}

/// Creates a provider (`name`, optional `uuid`): 201 with its Location.
#[utoipa::path(post, path = "/resource_providers", tag = "resource_providers",
    request_body(content = Object, description = "{name, uuid?}"),
    security(("token" = [])),
    responses((status = 201, description = "Created", headers(("Location" = String, description = "The provider's URL"))),
              (status = 400, description = "A bad body"),
              (status = 409, description = "The name or uuid is taken")))]
pub async fn create_resource_provider(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    headers: HeaderMap,
    Json(b): Json<Value>,
) -> Result<Response, Error> {
    enforce(&auth, "resource_providers")?;
    let obj = body::object(&b, &["name", "uuid"])?;
    let name = body::string("name", body::required(obj, "name")?, 200)?;
    let uuid = match obj.get("uuid") {
        None => None,
        Some(u) => Some(body::uuid("uuid", u.as_str().unwrap_or_default())?),
    };
    let m = app::create(&ctx, name, uuid).await?;
    let location = format!("{}/resource_providers/{}", ctx.base_url(&headers), m.uuid);
    let mut resp = StatusCode::CREATED.into_response();
    resp.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).map_err(Error::internal)?,
    );
    Ok(resp)
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

/// Renames a provider (`{"name": ...}`).
#[utoipa::path(put, path = "/resource_providers/{uuid}", tag = "resource_providers",
    params(("uuid" = String, Path, description = "The provider")),
    request_body(content = Object, description = "{name}"),
    security(("token" = [])),
    responses((status = 200, description = "The provider", body = Object),
              (status = 400, description = "A bad body"),
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
    let obj = body::object(&b, &["name"])?;
    let name = body::string("name", body::required(obj, "name")?, 200)?;
    Ok(Json(view(&app::rename(&ctx, &uuid, &name).await?, v)))
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
