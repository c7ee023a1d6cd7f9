//! Copies of images in edge sites' stores: `image_location`, one row per
//! image and site store, gone with its image. The central store holds every
//! active image and has no rows.

use std::collections::HashMap;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::OnConflict;
use virga_db::sea_orm::{ActiveValue::Set, QueryOrder};

use super::{internal, now};

pub const QUEUED: &str = "queued";
pub const COPYING: &str = "copying";
pub const VERIFYING: &str = "verifying";
pub const ACTIVE: &str = "active";
pub const FAILED: &str = "failed";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "image_location")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub image_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: String,
    pub status: String,
    pub reason: Option<String>,
    pub task_id: Option<String>,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Records a copy's state; false when the image is gone.
pub async fn set(
    db: &impl ConnectionTrait,
    image_id: &str,
    store_id: &str,
    status: &str,
    reason: Option<&str>,
    task_id: Option<&str>,
) -> Result<bool, Error> {
    let row = ActiveModel {
        image_id: Set(image_id.to_owned()),
        store_id: Set(store_id.to_owned()),
        status: Set(status.to_owned()),
        reason: Set(reason.map(str::to_owned)),
        task_id: Set(task_id.map(str::to_owned)),
        updated_at: Set(now()),
    };
    let done = Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::ImageId, Column::StoreId])
                .update_columns([
                    Column::Status,
                    Column::Reason,
                    Column::TaskId,
                    Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await;
    match done {
        Ok(_) => Ok(true),
        // The foreign key: the image was deleted.
        Err(_) if super::image::find(db, image_id).await?.is_none() => Ok(false),
        Err(e) => Err(internal(e)),
    }
}

pub async fn remove(
    db: &impl ConnectionTrait,
    image_id: &str,
    store_id: &str,
) -> Result<bool, Error> {
    let r = Entity::delete_many()
        .filter(Column::ImageId.eq(image_id))
        .filter(Column::StoreId.eq(store_id))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// An image's copies, by store id.
pub async fn of(db: &impl ConnectionTrait, image_id: &str) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::ImageId.eq(image_id))
        .order_by_asc(Column::StoreId)
        .all(db)
        .await
        .map_err(internal)
}

/// The stores holding an active copy of each of `ids`.
pub async fn active_of(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>, Error> {
    let rows = Entity::find()
        .filter(Column::ImageId.is_in(ids.iter().map(String::as_str)))
        .filter(Column::Status.eq(ACTIVE))
        .order_by_asc(Column::StoreId)
        .all(db)
        .await
        .map_err(internal)?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        out.entry(r.image_id).or_default().push(r.store_id);
    }
    Ok(out)
}
