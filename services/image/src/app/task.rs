//! An image's import tasks, for whoever may see the image and is its owner
//! (or an admin): they carry user and request ids.

use virga_common::Error;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::image as images;
use crate::db::task;

pub async fn list_for_image(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
) -> Result<Vec<task::Model>, Error> {
    images::allowed(ctx, auth, id, "image:get_image_tasks").await?;
    task::for_image(ctx.db(), id).await
}
