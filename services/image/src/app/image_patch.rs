//! Changing an image: a JSON patch, already checked for shape by the HTTP
//! layer, applied with Glance's rules (who may change the owner or make
//! an image public, formats fixed once data is there, custom properties
//! replaced or removed only when they exist).

use virga_common::Error;
use virga_policy::Target;
use virga_service::ServiceContext;
use virga_service::auth::Auth;

use super::image::{self as images, ImageDoc, enforce_visibility};
use crate::db::image;

/// One checked change.
#[derive(Debug, Clone)]
pub enum Change {
    Name(Option<String>),
    Visibility(String),
    Protected(bool),
    OsHidden(bool),
    MinDisk(i32),
    MinRam(i32),
    DiskFormat(Option<String>),
    ContainerFormat(Option<String>),
    Owner(Option<String>),
    Tags(Vec<String>),
    /// `add` sets a property whether or not it exists; `replace` needs it.
    SetProperty {
        key: String,
        value: String,
        must_exist: bool,
    },
    RemoveProperty(String),
}

pub async fn update(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    changes: Vec<Change>,
) -> Result<ImageDoc, Error> {
    let m = images::allowed(ctx, auth, id, "image:modify_image").await?;
    let mut d = images::doc(ctx, m).await?;
    for c in changes {
        apply(auth, &mut d, c)?;
    }
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    let model = image::save(&txn, d.model).await?;
    image::set_tags(&txn, id, &d.tags).await?;
    image::set_properties(&txn, id, &d.properties).await?;
    txn.commit().await.map_err(Error::internal)?;
    d.model = model;
    d.tags.sort();
    d.tags.dedup();
    Ok(d)
}

fn apply(auth: &Auth, d: &mut ImageDoc, c: Change) -> Result<(), Error> {
    let m = &mut d.model;
    let t = Target::new()
        .with_opt("owner", m.owner.clone())
        .with("visibility", m.visibility.clone());
    let queued_only = |field: &str, status: &str| {
        // Staged data is inspected again when imported; once an import
        // has begun, the formats it checks against must hold still.
        if matches!(status, "queued" | "uploading") {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "Attribute {field} can be only replaced for a queued image."
            )))
        }
    };
    match c {
        Change::Name(v) => m.name = v,
        Change::Visibility(v) => {
            enforce_visibility(auth, &v, &t)?;
            m.visibility = v;
        }
        Change::Protected(v) => m.protected = v,
        Change::OsHidden(v) => m.os_hidden = v,
        Change::MinDisk(v) => m.min_disk = v,
        Change::MinRam(v) => m.min_ram = v,
        Change::DiskFormat(v) => {
            if v != m.disk_format {
                queued_only("disk_format", &m.status)?;
            }
            m.disk_format = v;
        }
        Change::ContainerFormat(v) => {
            if v != m.container_format {
                queued_only("container_format", &m.status)?;
            }
            m.container_format = v;
        }
        Change::Owner(v) => {
            if v != m.owner && !auth.allows("context_is_admin", &Target::new()) {
                return Err(Error::Forbidden(
                    "Only an admin may change an image's owner.".into(),
                ));
            }
            m.owner = v;
        }
        Change::Tags(v) => d.tags = v,
        Change::SetProperty {
            key,
            value,
            must_exist,
        } => {
            if must_exist && !d.properties.contains_key(&key) {
                return Err(Error::Conflict(format!("Property {key} does not exist.")));
            }
            signature_fixed(&key, &m.status, d.properties.get(&key) != Some(&value))?;
            d.properties.insert(key, value);
        }
        Change::RemoveProperty(key) => {
            signature_fixed(&key, &m.status, d.properties.contains_key(&key))?;
            if d.properties.remove(&key).is_none() {
                return Err(Error::Conflict(format!("Property {key} does not exist.")));
            }
        }
    }
    Ok(())
}

/// An image's signature properties describe the data it was verified
/// with; once data is accepted they would only mislead, so they are fixed.
fn signature_fixed(key: &str, status: &str, changes: bool) -> Result<(), Error> {
    if changes && key.starts_with("img_signature") && !matches!(status, "queued" | "uploading") {
        return Err(Error::Forbidden(format!(
            "Attribute {key} can be only changed before the image has data."
        )));
    }
    Ok(())
}

/// Adds a tag (idempotent).
pub async fn add_tag(ctx: &ServiceContext, auth: &Auth, id: &str, tag: &str) -> Result<(), Error> {
    let m = images::allowed(ctx, auth, id, "image:modify_image").await?;
    let mut d = images::doc(ctx, m).await?;
    if !d.tags.iter().any(|t| t == tag) {
        d.tags.push(tag.to_owned());
        save_tags(ctx, d).await?;
    }
    Ok(())
}

/// Removes a tag; one the image does not have is 404.
pub async fn remove_tag(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    tag: &str,
) -> Result<(), Error> {
    let m = images::allowed(ctx, auth, id, "image:modify_image").await?;
    let mut d = images::doc(ctx, m).await?;
    let before = d.tags.len();
    d.tags.retain(|t| t != tag);
    if d.tags.len() == before {
        return Err(Error::NotFound {
            kind: "tag",
            id: tag.to_owned(),
        });
    }
    save_tags(ctx, d).await
}

async fn save_tags(ctx: &ServiceContext, d: ImageDoc) -> Result<(), Error> {
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    image::set_tags(&txn, &d.model.id, &d.tags).await?;
    image::save(&txn, d.model).await?;
    txn.commit().await.map_err(Error::internal)
}

/// Deactivates (`active` -> `deactivated`) or reactivates an image;
/// already there is a no-op, any other status 403.
pub async fn set_active(
    ctx: &ServiceContext,
    auth: &Auth,
    id: &str,
    active: bool,
) -> Result<(), Error> {
    let v = images::visible(ctx, auth, id).await?;
    let (action, from, to) = if active {
        ("image:reactivate", "deactivated", "active")
    } else {
        ("image:deactivate", "active", "deactivated")
    };
    auth.enforce(action, &v.target)?;
    if v.model.status == to {
        return Ok(());
    }
    if v.model.status != from {
        let verb = if active { "reactivate" } else { "deactivate" };
        return Err(Error::Forbidden(format!(
            "Not allowed to {verb} image in status '{}'",
            v.model.status
        )));
    }
    // Conditional, so a concurrent change of status is not overwritten.
    if !image::set_status_if(ctx.db(), id, from, to).await? {
        return Err(Error::Conflict(format!(
            "Image {id} changed status meanwhile; try again."
        )));
    }
    Ok(())
}
