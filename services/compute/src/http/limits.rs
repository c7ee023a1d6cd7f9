//! `/v2.1/limits`: a project's absolute limits and usage.

use axum::Json;
use axum::extract::{Query, State};
use serde_json::Value;
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::limits as app;

/// Shows the caller's project's limits and what it uses (admins: another
/// project's with `tenant_id`).
#[utoipa::path(get, path = "/v2.1/limits", tag = "limits",
    params(("tenant_id" = Option<String>, Query, description = "Admins: this project's")),
    security(("token" = [])),
    responses((status = 200, description = "{\"limits\": {\"absolute\": {...}, \"rate\": []}}", body = Object),
              (status = 403, description = "Another project's, not an admin")))]
pub async fn show_limits(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, Error> {
    let tenant = pairs
        .iter()
        .rev()
        .find(|(k, _)| k == "tenant_id")
        .map(|(_, v)| v.as_str());
    Ok(Json(app::show(&ctx, &auth, tenant).await?))
}
