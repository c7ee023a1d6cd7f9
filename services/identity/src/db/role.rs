//! Roles: global (no domain) or domain-specific.
//!
//! Name uniqueness is enforced by the database on both backends: a unique
//! index on (name, domain_id) for domain roles and a partial unique index on
//! (name) WHERE domain_id IS NULL for global roles (see migration 3 for why).

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryTrait};

use super::{delete_err, must_find, paginate, store_err};

const KIND: &str = "role";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub domain_id: Option<String>,
    pub description: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[derive(Debug, Clone, Default)]
pub struct NewRole {
    pub name: String,
    pub domain_id: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RoleUpdate {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
}

/// As in Keystone, listing without a domain gives the global roles only.
#[derive(Debug, Clone, Default)]
pub struct RoleFilter {
    pub name: Option<String>,
    pub domain_id: Option<String>,
}

pub async fn create(db: &impl ConnectionTrait, new: NewRole) -> Result<Model, Error> {
    ActiveModel {
        id: Set(super::new_id()),
        name: Set(new.name),
        domain_id: Set(new.domain_id),
        description: Set(new.description),
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
    filter: &RoleFilter,
    page: &PageRequest,
) -> Result<Page<Model>, Error> {
    let mut q = Entity::find();
    q = q.apply_if(filter.name.as_deref(), |q, v| q.filter(Column::Name.eq(v)));
    q = match &filter.domain_id {
        Some(d) => q.filter(Column::DomainId.eq(d.as_str())),
        None => q.filter(Column::DomainId.is_null()),
    };
    paginate(db, q, Column::Id, page, |m| m.id.clone()).await
}

/// The global roles (no domain) with these names.
pub async fn global_by_names(
    db: &impl ConnectionTrait,
    names: &[&str],
) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::DomainId.is_null())
        .filter(Column::Name.is_in(names.iter().copied()))
        .all(db)
        .await
        .map_err(super::internal)
}

/// Roles by id, in the order asked, skipping unknown ids.
pub async fn get_many(db: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<Model>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = Entity::find()
        .filter(Column::Id.is_in(ids.iter().map(String::as_str)))
        .all(db)
        .await
        .map_err(super::internal)?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|r| &r.id == id).cloned())
        .collect())
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    change: RoleUpdate,
) -> Result<Model, Error> {
    let mut am = get(db, id).await?.into_active_model();
    super::set_if(&mut am.name, change.name);
    super::set_if(&mut am.description, change.description);
    am.update(db).await.map_err(store_err(KIND))
}

/// Deletes a role; its assignments go with it (foreign key cascade).
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    get(db, id).await?;
    Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(delete_err(KIND))?;
    Ok(())
}
