//! `flavor`: the sizes servers are made in.

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::Query;
use virga_db::sea_orm::{
    Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

use super::{flavor_access, internal, is_unique_violation};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "flavor")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub memory_mb: i32,
    pub vcpus: i32,
    pub root_gb: i32,
    pub ephemeral_gb: i32,
    pub swap: i32,
    pub rxtx_factor: f64,
    pub is_public: bool,
    pub disabled: bool,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Which flavors a listing holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Public ones and the private ones shared with this project.
    PublicOr(Option<String>),
    /// Private ones only.
    Private,
    All,
}

/// A listing's filters.
#[derive(Debug, Clone)]
pub struct Filter {
    pub visibility: Visibility,
    pub min_ram: Option<i32>,
    pub min_disk: Option<i32>,
    pub enabled_only: bool,
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(id.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// The flavors `f` selects, by id (the caller sorts and pages: a cloud
/// has tens or hundreds of flavors, not millions).
pub async fn list(db: &impl ConnectionTrait, f: &Filter) -> Result<Vec<Model>, Error> {
    let mut q = Entity::find();
    q = match &f.visibility {
        Visibility::All => q,
        Visibility::Private => q.filter(Column::IsPublic.eq(false)),
        Visibility::PublicOr(project) => {
            let mut any = Condition::any().add(Column::IsPublic.eq(true));
            if let Some(p) = project {
                let shared = Query::select()
                    .column(flavor_access::Column::FlavorId)
                    .from(flavor_access::Entity)
                    .and_where(flavor_access::Column::ProjectId.eq(p.as_str()))
                    .to_owned();
                any = any.add(Column::Id.in_subquery(shared));
            }
            q.filter(any)
        }
    };
    if let Some(r) = f.min_ram {
        q = q.filter(Column::MemoryMb.gte(r));
    }
    if let Some(d) = f.min_disk {
        q = q.filter(Column::RootGb.gte(d));
    }
    if f.enabled_only {
        q = q.filter(Column::Disabled.eq(false));
    }
    q.order_by_asc(Column::Id).all(db).await.map_err(internal)
}

/// Why a flavor could not be inserted.
pub enum Taken {
    Id,
    Name,
}

/// Inserts `m`; `Err(Ok(Taken))` when its id or name is in use.
pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Result<Model, Taken>, Error> {
    let (id, name) = (m.id.clone(), m.name.clone());
    match m.into_active_model().insert(db).await {
        Ok(m) => Ok(Ok(m)),
        Err(e) if is_unique_violation(&e) => {
            // Which one: the id is checked first, as Nova does.
            if find(db, &id).await?.is_some() {
                Ok(Err(Taken::Id))
            } else if Entity::find()
                .filter(Column::Name.eq(name))
                .one(db)
                .await
                .map_err(internal)?
                .is_some()
            {
                Ok(Err(Taken::Name))
            } else {
                Err(internal(e))
            }
        }
        Err(e) => Err(internal(e)),
    }
}

/// Deletes the flavor (its extra specs and access go with it); false when
/// there was none.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool, Error> {
    let r = Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected > 0)
}
