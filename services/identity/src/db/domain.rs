//! Domains: the top-level containers of projects, users, groups and roles.

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryTrait};

use super::{delete_err, internal, must_find, now, paginate, store_err};

const KIND: &str = "domain";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "domain")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[derive(Debug, Clone, Default)]
pub struct NewDomain {
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
}

/// Only the fields that are `Some` change; `description: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct DomainUpdate {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct DomainFilter {
    pub name: Option<String>,
    pub enabled: Option<bool>,
}

pub async fn create(db: &impl ConnectionTrait, new: NewDomain) -> Result<Model, Error> {
    let at = now();
    ActiveModel {
        id: Set(super::new_id()),
        name: Set(new.name),
        description: Set(new.description),
        enabled: Set(new.enabled),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await
    .map_err(store_err(KIND))
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Model, Error> {
    must_find::<Entity, _>(db, KIND, id).await
}

pub async fn get_by_name(db: &impl ConnectionTrait, name: &str) -> Result<Model, Error> {
    Entity::find()
        .filter(Column::Name.eq(name))
        .one(db)
        .await
        .map_err(internal)?
        .ok_or_else(|| Error::not_found(KIND, name))
}

pub async fn list(
    db: &impl ConnectionTrait,
    filter: &DomainFilter,
    page: &PageRequest,
) -> Result<Page<Model>, Error> {
    let mut q = Entity::find();
    q = q.apply_if(filter.name.as_deref(), |q, name| {
        q.filter(Column::Name.eq(name))
    });
    q = q.apply_if(filter.enabled, |q, enabled| {
        q.filter(Column::Enabled.eq(enabled))
    });
    paginate(db, q, Column::Id, page, |m| m.id.clone()).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    change: DomainUpdate,
) -> Result<Model, Error> {
    let mut am = get(db, id).await?.into_active_model();
    super::set_if(&mut am.name, change.name);
    super::set_if(&mut am.description, change.description);
    super::set_if(&mut am.enabled, change.enabled);
    am.updated_at = Set(now());
    am.update(db).await.map_err(store_err(KIND))
}

/// Keystone deletes only a disabled domain, so that a slip of the finger
/// cannot take a whole tenant away. Projects, users, groups or roles still
/// in the domain make it a conflict (the foreign keys restrict); the
/// domain's own role assignments go with it.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    let domain = get(db, id).await?;
    if domain.enabled {
        return Err(Error::Conflict(format!(
            "Cannot delete a domain that is enabled, please disable it first: {id}"
        )));
    }
    // The row first: if a foreign key blocks it, the assignments stay.
    Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(delete_err(KIND))?;
    super::assignment::delete_for_target(db, super::assignment::TargetType::Domain, id).await?;
    Ok(())
}
