//! `/v2/images/{image_id}/members`: sharing an image with other projects.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::glance_time;
use crate::app::member as app;
use crate::db::member::Model;

fn view(m: &Model) -> Value {
    json!({
        "image_id": m.image_id, "member_id": m.member, "status": m.status,
        "created_at": glance_time(&m.created_at), "updated_at": glance_time(&m.updated_at),
        "schema": "/v2/schemas/member",
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberCreate {
    /// The project to share the image with.
    pub member: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberUpdate {
    /// `pending`, `accepted` or `rejected`.
    pub status: Option<String>,
}

/// Shares a `shared` image with a project (its owner, or admin); the
/// member starts `pending`. Another visibility is 403, a member twice 409.
#[utoipa::path(post, path = "/v2/images/{image_id}/members", tag = "members",
    params(("image_id" = String, Path, description = "The image")),
    request_body = MemberCreate, security(("token" = [])),
    responses((status = 200, description = "The member", body = Object),
              (status = 400, description = "No member given"),
              (status = 403, description = "Not a shared image, or not its owner"),
              (status = 409, description = "Already a member")))]
pub async fn create_member(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
    Json(body): Json<MemberCreate>,
) -> Result<Json<Value>, Error> {
    Ok(Json(view(&app::add(&ctx, &auth, &id, body.member).await?)))
}

/// Lists a shared image's members: all of them for its owner, only
/// itself for a member.
#[utoipa::path(get, path = "/v2/images/{image_id}/members", tag = "members",
    params(("image_id" = String, Path, description = "The image")), security(("token" = [])),
    responses((status = 200, description = "Members", body = Object),
              (status = 403, description = "Not a shared image")))]
pub async fn list_members(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let members = app::list(&ctx, &auth, &id).await?;
    Ok(Json(json!({
        "members": members.iter().map(view).collect::<Vec<_>>(),
        "schema": "/v2/schemas/members",
    })))
}

/// Shows one member (404 unless the caller may see it).
#[utoipa::path(get, path = "/v2/images/{image_id}/members/{member_id}", tag = "members",
    params(("image_id" = String, Path, description = "The image"),
           ("member_id" = String, Path, description = "The member project")),
    security(("token" = [])),
    responses((status = 200, description = "The member", body = Object),
              (status = 404, description = "No such member, or not visible")))]
pub async fn show_member(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((id, member)): Path<(String, String)>,
) -> Result<Json<Value>, Error> {
    Ok(Json(view(&app::get(&ctx, &auth, &id, &member).await?)))
}

/// Accepts or rejects an offered image: only the member project may.
#[utoipa::path(put, path = "/v2/images/{image_id}/members/{member_id}", tag = "members",
    params(("image_id" = String, Path, description = "The image"),
           ("member_id" = String, Path, description = "The member project")),
    request_body = MemberUpdate, security(("token" = [])),
    responses((status = 200, description = "The member", body = Object),
              (status = 400, description = "No or a bad status"),
              (status = 403, description = "Not the member")))]
pub async fn update_member(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((id, member)): Path<(String, String)>,
    Json(body): Json<MemberUpdate>,
) -> Result<Json<Value>, Error> {
    let m = app::set_status(&ctx, &auth, &id, &member, body.status).await?;
    Ok(Json(view(&m)))
}

/// Stops sharing an image with a project (its owner, or admin).
#[utoipa::path(delete, path = "/v2/images/{image_id}/members/{member_id}", tag = "members",
    params(("image_id" = String, Path, description = "The image"),
           ("member_id" = String, Path, description = "The member project")),
    security(("token" = [])),
    responses((status = 204, description = "Removed"),
              (status = 403, description = "Not the image's owner"),
              (status = 404, description = "No such member")))]
pub async fn delete_member(
    auth: Auth,
    State(ctx): State<ServiceContext>,
    Path((id, member)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    app::remove(&ctx, &auth, &id, &member).await?;
    Ok(StatusCode::NO_CONTENT)
}
