//! Users: local accounts with an optional argon2id password.
//!
//! The password hash is stored as a PHC string and never shown by `Debug`,
//! so a logged model cannot leak it.

use std::fmt;

use virga_auth::PasswordHash;
use virga_common::Error;
use virga_common::pagination::{Page, PageRequest};
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::Query;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QuerySelect, QueryTrait};

use super::{delete_err, group, must_find, now, paginate, store_err};

const KIND: &str = "user";

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub enabled: bool,
    pub password_hash: Option<String>,
    pub default_project_id: Option<String>,
    pub password_expires_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("domain_id", &self.domain_id)
            .field("enabled", &self.enabled)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("default_project_id", &self.default_project_id)
            .field("password_expires_at", &self.password_expires_at)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// The stored hash, or None for a user without a password. A row that
    /// is not an argon2id PHC string is an internal error, not a login.
    pub fn password(&self) -> Result<Option<PasswordHash>, Error> {
        self.password_hash
            .as_deref()
            .map(|phc| PasswordHash::from_phc(phc).map_err(Error::internal))
            .transpose()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub name: String,
    pub domain_id: String,
    pub enabled: bool,
    pub password: Option<PasswordHash>,
    pub default_project_id: Option<String>,
    pub password_expires_at: Option<ChronoDateTimeUtc>,
}

/// `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub password: Option<Option<PasswordHash>>,
    pub default_project_id: Option<Option<String>>,
    pub password_expires_at: Option<Option<ChronoDateTimeUtc>>,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub name: Option<String>,
    pub domain_id: Option<String>,
    pub enabled: Option<bool>,
    /// Only members of this group.
    pub group_id: Option<String>,
}

pub async fn create(db: &impl ConnectionTrait, new: NewUser) -> Result<Model, Error> {
    create_with_id(db, super::new_id(), new).await
}

/// Creates a user under an id the caller derived (a federated shadow
/// user's id comes from its provider's identity, as in Keystone).
pub async fn create_with_id(
    db: &impl ConnectionTrait,
    id: String,
    new: NewUser,
) -> Result<Model, Error> {
    let at = now();
    ActiveModel {
        id: Set(id),
        name: Set(new.name),
        domain_id: Set(new.domain_id),
        enabled: Set(new.enabled),
        password_hash: Set(new.password.map(|p| p.to_phc())),
        default_project_id: Set(new.default_project_id),
        password_expires_at: Set(new.password_expires_at),
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

/// The user called `name` in `domain_id`: how password authentication finds it.
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
        .map_err(super::internal)?
        .ok_or_else(|| Error::not_found(KIND, name))
}

/// The ids of every user in a domain, for revoking their tokens at once.
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
    filter: &UserFilter,
    page: &PageRequest,
) -> Result<Page<Model>, Error> {
    let mut q = Entity::find();
    q = q.apply_if(filter.name.as_deref(), |q, v| q.filter(Column::Name.eq(v)));
    q = q.apply_if(filter.domain_id.as_deref(), |q, v| {
        q.filter(Column::DomainId.eq(v))
    });
    q = q.apply_if(filter.enabled, |q, v| q.filter(Column::Enabled.eq(v)));
    if let Some(g) = &filter.group_id {
        group::get(db, g).await?;
        q = q.filter(
            Column::Id.in_subquery(
                Query::select()
                    .column(group::membership::Column::UserId)
                    .from(group::membership::Entity)
                    .and_where(group::membership::Column::GroupId.eq(g.as_str()))
                    .to_owned(),
            ),
        );
    }
    paginate(db, q, Column::Id, page, |m| m.id.clone()).await
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    change: UserUpdate,
) -> Result<Model, Error> {
    let mut am = get(db, id).await?.into_active_model();
    super::set_if(&mut am.name, change.name);
    super::set_if(&mut am.enabled, change.enabled);
    if let Some(v) = change.password {
        am.password_hash = Set(v.map(|p| p.to_phc()));
    }
    super::set_if(&mut am.default_project_id, change.default_project_id);
    super::set_if(&mut am.password_expires_at, change.password_expires_at);
    am.updated_at = Set(now());
    am.update(db).await.map_err(store_err(KIND))
}

/// Deletes a user with its role assignments; the foreign keys cascade to
/// its group memberships and application credentials. Run it in a
/// transaction to make the two steps one.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<(), Error> {
    get(db, id).await?;
    // The row first: if a foreign key blocks it, the assignments stay.
    Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(delete_err(KIND))?;
    super::assignment::delete_for_actor(db, super::assignment::ActorType::User, id).await?;
    Ok(())
}
