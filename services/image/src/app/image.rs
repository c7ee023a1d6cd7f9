//! Images' metadata: who may see and change which image (Glance's
//! visibility and ownership rules, through the policy), creation with
//! Glance's defaults, listing, deletion.

use std::collections::BTreeMap;

use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use crate::db::image::{self, Model};
use crate::db::listing::{self, ImageFilter, ListRequest, Viewer};
use crate::db::now;

/// An image with its tags and extra properties: what the API shows.
#[derive(Debug, Clone)]
pub struct ImageDoc {
    pub model: Model,
    pub tags: Vec<String>,
    pub properties: BTreeMap<String, String>,
    /// The stores holding its data (Glance's `stores`), when the cloud has
    /// edge-site stores.
    pub stores: Option<Vec<String>>,
}

/// An image to create, checked for shape by the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct NewImage {
    pub id: Option<String>,
    pub name: Option<String>,
    pub visibility: Option<String>,
    pub protected: bool,
    pub os_hidden: bool,
    pub min_disk: i32,
    pub min_ram: i32,
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub properties: BTreeMap<String, String>,
}

pub fn viewer(auth: &Auth) -> Viewer {
    Viewer {
        project_id: auth.claims().project_id().map(str::to_owned),
        admin: auth.allows("context_is_admin", &Target::new()),
    }
}

pub async fn target(ctx: &ServiceContext, auth: &Auth, m: &Model) -> Result<Target, Error> {
    let member = match (m.visibility.as_str(), auth.claims().project_id()) {
        ("shared", Some(p)) => image::is_member(ctx.db(), &m.id, p).await?,
        _ => false,
    };
    Ok(Target::new()
        .with_opt("owner", m.owner.clone())
        .with("visibility", m.visibility.clone())
        .with("is_member", if member { "True" } else { "False" }))
}

/// An image the caller may see, with the policy target built once (a
/// shared image's membership is one query) for the checks that follow.
pub struct Visible {
    pub model: Model,
    pub target: Target,
}

/// The image's row, if the caller may see it; otherwise, as if it did not
/// exist, 404. Tags and properties are not read: [`get`] adds them.
pub async fn visible(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Visible, Error> {
    let not_found = || Error::NotFound {
        kind: "image",
        id: id.to_owned(),
    };
    let model = image::find(ctx.db(), id).await?.ok_or_else(not_found)?;
    let target = target(ctx, auth, &model).await?;
    auth.enforce_visible("image:get_image", &target, "image", id)?;
    Ok(Visible { model, target })
}

/// The image with its tags and properties, if the caller may see it.
pub async fn get(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<ImageDoc, Error> {
    doc(ctx, visible(ctx, auth, id).await?.model).await
}

/// An image the caller may see and may do `action` on (403 otherwise).
pub async fn allowed(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    action: &str,
) -> Result<Model, Error> {
    let v = visible(ctx, auth, id).await?;
    auth.enforce(action, &v.target)?;
    Ok(v.model)
}

/// Adds the tags and properties to an image's row.
pub async fn doc(ctx: &ServiceContext, model: Model) -> Result<ImageDoc, Error> {
    let db = ctx.db();
    let mut stores = super::stores::held(ctx, std::slice::from_ref(&model)).await?;
    Ok(ImageDoc {
        tags: image::tags(db, &model.id).await?,
        properties: image::properties(db, &model.id).await?,
        stores: stores.remove(&model.id),
        model,
    })
}

/// Visibility rules on top of the policy: making an image public takes
/// `image:publicize_image` (admin), community `image:communitize_image`.
pub fn enforce_visibility(auth: &Auth, visibility: &str, t: &Target) -> Result<(), Error> {
    match visibility {
        "public" => auth.enforce("image:publicize_image", t),
        "community" => auth.enforce("image:communitize_image", t),
        _ => Ok(()),
    }
}

fn project_of(auth: &Auth) -> Option<String> {
    auth.claims().project_id().map(str::to_owned)
}

pub async fn create(ctx: &ServiceContext, auth: &Auth, new: NewImage) -> Result<ImageDoc, Error> {
    let project = auth.claims().project_id().map(str::to_owned);
    let owner = new.owner.clone().or(project);
    let visibility = new.visibility.clone().unwrap_or_else(|| "shared".into());
    let t = Target::new()
        .with_opt("owner", owner.clone())
        .with("visibility", visibility.clone());
    auth.enforce("image:add_image", &t)?;
    enforce_visibility(auth, &visibility, &t)?;
    // A service's images in its own project (a moving server's disk on
    // its way) are the cloud's, not a tenant's: no image quota counts them.
    let own_service_image =
        auth.claims().has_role("service") && owner.is_some() && owner == project_of(auth);
    if !own_service_image {
        super::quota::check_new_image(ctx, owner.as_deref()).await?;
    }
    let at = now();
    let model = Model {
        id: new.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        name: new.name,
        status: "queued".into(),
        visibility,
        protected: new.protected,
        os_hidden: new.os_hidden,
        owner,
        disk_format: new.disk_format,
        container_format: new.container_format,
        size: None,
        virtual_size: None,
        checksum: None,
        os_hash_algo: None,
        os_hash_value: None,
        min_disk: new.min_disk,
        min_ram: new.min_ram,
        created_at: at,
        updated_at: at,
    };
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let m = image::create(&txn, model).await?;
    image::set_tags(&txn, &m.id, &new.tags).await?;
    image::set_properties(&txn, &m.id, &new.properties).await?;
    txn.commit().await.map_err(Error::internal)?;
    tracing::info!(image = %m.id, owner = ?m.owner, "image created");
    doc(ctx, m).await
}

/// One page of what the caller may see, with tags and properties.
pub async fn list(
    ctx: &ServiceContext,
    auth: &Auth,
    filter: &ImageFilter,
    req: &ListRequest,
) -> Result<Vec<ImageDoc>, Error> {
    auth.enforce("image:get_images", &Target::new())?;
    let db = ctx.db();
    let rows = listing::list(db, &viewer(auth), filter, req).await?;
    let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
    let mut tags = image::tags_of(db, &ids).await?;
    let mut props = image::properties_of(db, &ids).await?;
    let mut stores = super::stores::held(ctx, &rows).await?;
    Ok(rows
        .into_iter()
        .map(|model| ImageDoc {
            tags: tags.remove(&model.id).unwrap_or_default(),
            properties: props.remove(&model.id).unwrap_or_default(),
            stores: stores.remove(&model.id),
            model,
        })
        .collect())
}

/// The marker image of a list request: one the caller can see, else 400
/// (Glance's answer to an unknown marker).
pub async fn marker(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<Model, Error> {
    match visible(ctx, auth, id).await {
        Ok(v) => Ok(v.model),
        Err(Error::NotFound { .. }) => Err(Error::BadRequest(format!(
            "Invalid marker. Image {id} could not be found."
        ))),
        Err(e) => Err(e),
    }
}

/// Deletes an image (its tags, properties and members go with it); a
/// protected one is 403.
pub async fn delete(ctx: &ServiceContext, auth: &Auth, id: &str) -> Result<(), Error> {
    let m = allowed(ctx, auth, id, "image:delete_image").await?;
    if m.protected {
        return Err(Error::Forbidden(format!(
            "Image {id} is protected and cannot be deleted."
        )));
    }
    let copies = crate::db::location::of(ctx.db(), id).await?;
    image::delete(ctx.db(), id).await?;
    super::image_data::forget(ctx, id).await?;
    super::stores::forget(ctx, id, &copies).await;
    tracing::info!(image = %id, "image deleted");
    Ok(())
}
