//! Regions: user-named, optionally nested (an edge site under its metro).

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryTrait};

use super::{delete_err, must_find, paginate, store_err};

const KIND: &str = "region";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "region")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub description: Option<String>,
    pub parent_region_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Keystone lets the caller choose a region's id; without one it makes one.
#[derive(Debug, Clone, Default)]
pub struct NewRegion {
    pub id: Option<String>,
    pub description: Option<String>,
    pub parent_region_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RegionUpdate {
    pub description: Option<Option<String>>,
    pub parent_region_id: Option<Option<String>>,
}

pub async fn create(db: &impl ConnectionTrait, new: NewRegion) -> Result<Model, Error> {
    ActiveModel {
        id: Set(new.id.unwrap_or_else(super::new_id)),
        description: Set(new.description),
        parent_region_id: Set(new.parent_region_id),
    }
    .insert(db)
    .await
    .map_err(store_err(KIND))
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Model, Error> {
    must_find::<Entity, _>(db, KIND, id).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    parent_region_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Model>, Error> {
    let mut q = Entity::find();
    q = q.apply_if(parent_region_id, |q, p| {
        q.filter(Column::ParentRegionId.eq(p))
    });
    paginate(db, q, Column::Id, page, |m| m.id.clone()).await
}

/// Updates a region; a new parent that is the region itself or one of its
/// descendants would make a cycle and is refused.
pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    change: RegionUpdate,
) -> Result<Model, Error> {
    let mut am = get(db, id).await?.into_active_model();
    super::set_if(&mut am.description, change.description);
    if let Some(parent) = change.parent_region_id {
        let mut cur = parent.clone();
        while let Some(p) = cur {
            if p == id {
                return Err(Error::BadRequest(format!(
                    "Region {id} cannot be its own ancestor."
                )));
            }
            cur = get(db, &p)
                .await
                .map_err(|_| Error::BadRequest(format!("Parent region {p} not found.")))?
                .parent_region_id;
        }
        am.parent_region_id = Set(parent);
    }
    am.update(db).await.map_err(store_err(KIND))
}

/// A region with child regions or endpoints is a conflict (foreign keys restrict).
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    get(db, id).await?;
    Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(delete_err(KIND))?;
    Ok(())
}
