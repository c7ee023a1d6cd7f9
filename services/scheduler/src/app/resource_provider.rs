//! Resource providers: create (a root of its own tree until nesting comes
//! with microversion 1.14), list with filters, show, rename, delete.

use virga_common::Error;
use virga_service::ServiceContext;

use crate::db::{now, provider as db};

pub use crate::db::provider::{Filter, Model};

fn not_found(uuid: &str) -> Error {
    Error::NotFound {
        kind: "resource provider",
        id: uuid.to_owned(),
    }
}

pub async fn get(ctx: &ServiceContext, uuid: &str) -> Result<Model, Error> {
    db::find(ctx.db(), uuid)
        .await?
        .ok_or_else(|| not_found(uuid))
}

pub async fn create(
    ctx: &ServiceContext,
    name: String,
    uuid: Option<String>,
) -> Result<Model, Error> {
    let uuid = uuid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let at = now();
    let m = db::create(
        ctx.db(),
        Model {
            root_uuid: uuid.clone(),
            uuid,
            name,
            generation: 0,
            parent_uuid: None,
            created_at: at,
            updated_at: at,
        },
    )
    .await?;
    tracing::info!(provider = %m.uuid, name = %m.name, "resource provider created");
    Ok(m)
}

pub async fn list(ctx: &ServiceContext, filter: &Filter) -> Result<Vec<Model>, Error> {
    db::list(ctx.db(), filter).await
}

pub async fn rename(ctx: &ServiceContext, uuid: &str, name: &str) -> Result<Model, Error> {
    get(ctx, uuid).await?;
    db::rename(ctx.db(), uuid, name).await?;
    get(ctx, uuid).await
}

/// Deletes a provider with no child providers (its inventories and
/// aggregate memberships go with it).
pub async fn delete(ctx: &ServiceContext, uuid: &str) -> Result<(), Error> {
    get(ctx, uuid).await?;
    if db::has_children(ctx.db(), uuid).await? {
        return Err(Error::Conflict(format!(
            "Unable to delete parent resource provider {uuid}: It has child resource providers."
        )));
    }
    db::delete(ctx.db(), uuid).await?;
    tracing::info!(provider = %uuid, "resource provider deleted");
    Ok(())
}
