//! Image members: the projects a `shared` image is offered to, and whether
//! each accepted it.

use virga_common::Error;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryOrder};

pub use super::image::member::{Column, Entity, Model};
use super::{internal, now, store_err};

pub async fn add(db: &impl ConnectionTrait, image_id: &str, member: &str) -> Result<Model, Error> {
    let at = now();
    let m = Model {
        image_id: image_id.to_owned(),
        member: member.to_owned(),
        status: "pending".into(),
        created_at: at,
        updated_at: at,
    };
    m.into_active_model()
        .insert(db)
        .await
        .map_err(|e| match store_err("image member")(e) {
            Error::Conflict(_) => Error::Conflict(format!(
                "Member {member} is duplicated for image {image_id}"
            )),
            other => other,
        })
}

pub async fn find(
    db: &impl ConnectionTrait,
    image_id: &str,
    member: &str,
) -> Result<Option<Model>, Error> {
    Entity::find_by_id((image_id.to_owned(), member.to_owned()))
        .one(db)
        .await
        .map_err(internal)
}

pub async fn list(db: &impl ConnectionTrait, image_id: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::ImageId.eq(image_id))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Member)
        .all(db)
        .await
        .map_err(internal)
}

pub async fn set_status(db: &impl ConnectionTrait, m: Model, status: &str) -> Result<Model, Error> {
    let mut am = m.into_active_model();
    am.status = Set(status.to_owned());
    am.updated_at = Set(now());
    am.update(db).await.map_err(internal)
}

pub async fn delete(db: &impl ConnectionTrait, image_id: &str, member: &str) -> Result<(), Error> {
    Entity::delete_by_id((image_id.to_owned(), member.to_owned()))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
