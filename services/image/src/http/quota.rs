//! `GET /v2/info/usage`: the caller's project's image usage against its
//! quotas, in Glance's shape (sizes in MiB, -1 unlimited).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::quota;

/// The project's image count and stored size against its limits.
#[utoipa::path(get, path = "/v2/info/usage", tag = "images",
    security(("token" = [])),
    responses((status = 200, description = "Usage and limits", body = Object),
              (status = 400, description = "The token is not project-scoped")))]
pub async fn usage_info(
    auth: Auth,
    State(ctx): State<ServiceContext>,
) -> Result<Json<Value>, Error> {
    let project = auth
        .claims()
        .project_id()
        .ok_or_else(|| Error::BadRequest("Usage is reported for a project-scoped token.".into()))?;
    let u = quota::usage(&ctx, project).await?;
    let mib = |b: i64| if b < 0 { -1 } else { (b + (1 << 20) - 1) >> 20 };
    Ok(Json(json!({"usage": {
        "image_size_total": {"limit": mib(u.bytes_limit), "usage": mib(u.bytes)},
        "image_count_total": {"limit": u.images_limit, "usage": u.images},
    }})))
}
