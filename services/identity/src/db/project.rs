//! Projects (Keystone's tenants), their hierarchy and their tags.

use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryOrder, QuerySelect, QueryTrait};

use super::{delete_err, internal, must_find, now, paginate, store_err};

const KIND: &str = "project";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub parent_id: Option<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The `project_tag` table: (project_id, tag).
pub mod tag {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "project_tag")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub project_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub tag: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Debug, Clone, Default)]
pub struct NewProject {
    pub name: String,
    pub domain_id: String,
    pub parent_id: Option<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectUpdate {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    pub name: Option<String>,
    pub domain_id: Option<String>,
    pub enabled: Option<bool>,
    pub parent_id: Option<String>,
}

/// Creates a project; a parent must exist and be in the same domain, as
/// Keystone requires.
pub async fn create(db: &impl ConnectionTrait, new: NewProject) -> Result<Model, Error> {
    if let Some(parent_id) = &new.parent_id {
        let parent = Entity::find_by_id(parent_id.clone())
            .one(db)
            .await
            .map_err(internal)?
            .ok_or_else(|| Error::BadRequest(format!("Parent project {parent_id} not found.")))?;
        if parent.domain_id != new.domain_id {
            return Err(Error::BadRequest(
                "Cannot create project: its parent is in a different domain.".into(),
            ));
        }
    }
    let at = now();
    let project = ActiveModel {
        id: Set(super::new_id()),
        name: Set(new.name),
        domain_id: Set(new.domain_id),
        parent_id: Set(new.parent_id),
        description: Set(new.description),
        enabled: Set(new.enabled),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await
    .map_err(store_err(KIND))?;
    set_tags(db, &project.id, &new.tags).await?;
    Ok(project)
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Model, Error> {
    must_find::<Entity, _>(db, KIND, id).await
}

/// The project called `name` in `domain_id`: how a scope by name finds it.
pub async fn get_by_name(
    db: &impl ConnectionTrait,
    domain_id: &str,
    name: &str,
) -> Result<Model, Error> {
    Entity::find()
        .filter(Column::DomainId.eq(domain_id))
        .filter(Column::Name.eq(name))
        .one(db)
        .await
        .map_err(internal)?
        .ok_or_else(|| Error::not_found(KIND, name))
}

/// The ids of every project in a domain, for revoking their tokens at once.
pub async fn ids_in_domain(
    db: &impl ConnectionTrait,
    domain_id: &str,
) -> Result<Vec<String>, Error> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::DomainId.eq(domain_id))
        .into_tuple()
        .all(db)
        .await
        .map_err(super::internal)
}

pub async fn list(
    db: &impl ConnectionTrait,
    filter: &ProjectFilter,
    page: &PageRequest,
) -> Result<Page<Model>, Error> {
    let mut q = Entity::find();
    q = q.apply_if(filter.name.as_deref(), |q, v| q.filter(Column::Name.eq(v)));
    q = q.apply_if(filter.domain_id.as_deref(), |q, v| {
        q.filter(Column::DomainId.eq(v))
    });
    q = q.apply_if(filter.enabled, |q, v| q.filter(Column::Enabled.eq(v)));
    q = q.apply_if(filter.parent_id.as_deref(), |q, v| {
        q.filter(Column::ParentId.eq(v))
    });
    paginate(db, q, Column::Id, page, |m| m.id.clone()).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    change: ProjectUpdate,
) -> Result<Model, Error> {
    let mut am = get(db, id).await?.into_active_model();
    super::set_if(&mut am.name, change.name);
    super::set_if(&mut am.description, change.description);
    super::set_if(&mut am.enabled, change.enabled);
    am.updated_at = Set(now());
    am.update(db).await.map_err(store_err(KIND))
}

/// Deletes a leaf project with its tags and role assignments; a project
/// with children is a conflict (Keystone deletes subtrees only on request).
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    get(db, id).await?;
    let children = Entity::find()
        .filter(Column::ParentId.eq(id))
        .limit(1)
        .all(db)
        .await
        .map_err(internal)?;
    if !children.is_empty() {
        return Err(Error::Conflict(format!(
            "Cannot delete project {id}: it has child projects."
        )));
    }
    // The row first: if a foreign key blocks it, the assignments stay.
    Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(delete_err(KIND))?;
    super::assignment::delete_for_target(db, super::assignment::TargetType::Project, id).await?;
    Ok(())
}

/// The ids of `id` and all its ancestors, nearest first.
pub async fn lineage(db: &impl ConnectionTrait, id: &str) -> Result<Vec<Model>, Error> {
    let p = get(db, id).await?;
    let mut out = ancestors(db, &p).await?;
    out.insert(0, p);
    Ok(out)
}

/// A project's parent, its parent's parent... (not the project itself);
/// no query at all for a top-level project.
pub async fn ancestors(db: &impl ConnectionTrait, p: &Model) -> Result<Vec<Model>, Error> {
    let mut out: Vec<Model> = Vec::new();
    let mut next = p.parent_id.clone();
    // Bounded: a cycle cannot be created (parents are set only at create),
    // but a bound keeps a corrupted row from looping forever.
    while let Some(parent) = next {
        if out.len() > 64 {
            break;
        }
        let m = get(db, &parent).await?;
        next = m.parent_id.clone();
        out.push(m);
    }
    Ok(out)
}

pub async fn tags(db: &impl ConnectionTrait, id: &str) -> Result<Vec<String>, Error> {
    let rows = tag::Entity::find()
        .filter(tag::Column::ProjectId.eq(id))
        .order_by_asc(tag::Column::Tag)
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|t| t.tag).collect())
}

/// Replaces the project's tags.
pub async fn set_tags(db: &impl ConnectionTrait, id: &str, tags: &[String]) -> Result<(), Error> {
    tag::Entity::delete_many()
        .filter(tag::Column::ProjectId.eq(id))
        .exec(db)
        .await
        .map_err(internal)?;
    let mut unique: Vec<&String> = tags.iter().collect();
    unique.sort();
    unique.dedup();
    for t in unique {
        tag::ActiveModel {
            project_id: Set(id.to_string()),
            tag: Set(t.clone()),
        }
        .insert(db)
        .await
        .map_err(store_err("project tag"))?;
    }
    Ok(())
}
