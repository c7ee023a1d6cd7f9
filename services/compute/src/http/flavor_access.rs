//! `/v2.1/flavors/{id}/os-flavor-access`: the projects a private flavor
//! is shared with (granted and revoked through the flavor's action).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::flavor_access as app;

pub fn access_view(flavor: &str, projects: &[String]) -> Value {
    json!({"flavor_access": projects
        .iter()
        .map(|p| json!({"flavor_id": flavor, "tenant_id": p}))
        .collect::<Vec<_>>()})
}

/// Lists the projects a private flavor is shared with (admins); a public
/// flavor has no such list (404).
#[utoipa::path(get, path = "/v2.1/flavors/{flavor_id}/os-flavor-access", tag = "flavors",
    params(("flavor_id" = String, Path, description = "The flavor")),
    security(("token" = [])),
    responses((status = 200, description = "The access list", body = Object),
              (status = 403, description = "Not an admin"),
              (status = 404, description = "No such flavor, or a public one")))]
pub async fn list_flavor_access(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let projects = app::list(&ctx, &auth, &id).await?;
    Ok(Json(access_view(&id, &projects)))
}
