//! Application credentials: a secret a user hands to an application, scoped
//! to one project and (unless unrestricted) to a subset of the user's roles.

use std::fmt;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, QueryOrder, QueryTrait};

use super::{internal, now, store_err};

const KIND: &str = "application credential";

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_credential")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    /// A PHC hash of the secret; the secret itself is shown once and never stored.
    pub secret_hash: String,
    pub expires_at: Option<ChronoDateTimeUtc>,
    pub unrestricted: bool,
    /// JSON list of role ids; see [`Model::role_ids`].
    pub roles: String,
    pub created_at: ChronoDateTimeUtc,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationCredential")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("project_id", &self.project_id)
            .field("name", &self.name)
            .field("secret_hash", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("unrestricted", &self.unrestricted)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

impl Model {
    pub fn role_ids(&self) -> Result<Vec<String>, Error> {
        serde_json::from_str(&self.roles).map_err(Error::internal)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[derive(Clone, Default)]
pub struct NewApplicationCredential {
    pub user_id: String,
    pub project_id: String,
    pub name: String,
    pub description: Option<String>,
    pub secret_hash: String,
    pub expires_at: Option<ChronoDateTimeUtc>,
    pub unrestricted: bool,
    pub role_ids: Vec<String>,
}

/// A duplicate name for the same user is a conflict; an unknown user a bad reference.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewApplicationCredential,
) -> Result<Model, Error> {
    let roles = serde_json::to_string(&new.role_ids).map_err(Error::internal)?;
    ActiveModel {
        id: Set(super::new_id()),
        user_id: Set(new.user_id),
        project_id: Set(new.project_id),
        name: Set(new.name),
        description: Set(new.description),
        secret_hash: Set(new.secret_hash),
        expires_at: Set(new.expires_at),
        unrestricted: Set(new.unrestricted),
        roles: Set(roles),
        created_at: Set(now()),
    }
    .insert(db)
    .await
    .map_err(store_err(KIND))
}

/// By id alone: how authentication with an application credential finds it.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Model, Error> {
    super::must_find::<Entity, _>(db, KIND, id).await
}

/// A user's credential; another user's is NotFound, not Forbidden.
pub async fn get_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
    id: &str,
) -> Result<Model, Error> {
    // A database failure stays an internal error; only absence and another
    // user's credential read as NotFound.
    let cred = get(db, id).await?;
    if cred.user_id != user_id {
        return Err(Error::not_found(KIND, id));
    }
    Ok(cred)
}

pub async fn list(
    db: &impl ConnectionTrait,
    user_id: &str,
    name: Option<&str>,
) -> Result<Vec<Model>, Error> {
    let mut q = Entity::find()
        .filter(Column::UserId.eq(user_id))
        .order_by_asc(Column::Id);
    q = q.apply_if(name, |q, n| q.filter(Column::Name.eq(n)));
    q.all(db).await.map_err(internal)
}

pub async fn delete(db: &impl ConnectionTrait, user_id: &str, id: &str) -> Result<(), Error> {
    get_for_user(db, user_id, id).await?;
    Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
