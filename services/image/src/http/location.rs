//! `/v2/images/{image_id}/locations`: where nodes read an image's data.

use axum::Json;
use axum::extract::{Path, State};
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::app::location as app;

/// Lists where an image's data can be read (Glance 2.17; the `service`
/// role only): each edge site's store with an active copy, at the URL the
/// site's nodes use (`image.stores.<site>.node_url`), then the central
/// store as a signed URL of this service valid for
/// `image.download_url_secs`. Empty while the image has no data.
#[utoipa::path(get, path = "/v2/images/{image_id}/locations", tag = "images",
    params(("image_id" = String, Path, description = "The image")),
    security(("token" = [])),
    responses((status = 200, description = "The image's locations", body = Vec<app::Location>),
              (status = 403, description = "The caller lacks the service role"),
              (status = 404, description = "No such image")))]
pub async fn list_locations(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<Json<Vec<app::Location>>, Error> {
    Ok(Json(app::list(&ctx, &auth, &id).await?))
}
