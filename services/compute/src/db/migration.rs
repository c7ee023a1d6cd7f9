//! `migration`: one move of a server to another node (a resize, a cold
//! migration, an evacuation), Nova's migrations. Its uuid is also the
//! scheduler consumer that holds the target node's claim until the move
//! is confirmed, and the id of the image the server's disk travels in.

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::Expr;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder};

use super::internal;

/// Nova's `migration_type`s.
pub const RESIZE: &str = "resize";
pub const MIGRATION: &str = "migration";
pub const EVACUATION: &str = "evacuation";

/// Nova's statuses, in the order a move goes through them.
pub mod status {
    /// Claimed on the target; the server being stopped.
    pub const PRE_MIGRATING: &str = "pre-migrating";
    /// The disk on its way.
    pub const MIGRATING: &str = "migrating";
    /// The server being built on the target.
    pub const POST_MIGRATING: &str = "post-migrating";
    /// Running on the target, waiting for a confirm or a revert.
    pub const FINISHED: &str = "finished";
    pub const CONFIRMING: &str = "confirming";
    pub const CONFIRMED: &str = "confirmed";
    pub const REVERTING: &str = "reverting";
    pub const REVERTED: &str = "reverted";
    /// An evacuation finished: the server runs on the target.
    pub const DONE: &str = "done";
    /// It failed and was undone: the server is where it was.
    pub const ERROR: &str = "error";
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "migration")]
pub struct Model {
    /// Nova's integer id (what `os-migrations` shows before 2.59).
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Also the scheduler consumer holding the target's claim until the
    /// move is confirmed, and the id of the image the disk travels in.
    pub uuid: String,
    pub instance_id: String,
    pub project_id: String,
    pub user_id: String,
    pub migration_type: String,
    pub status: String,
    pub source_node: String,
    pub source_site: Option<String>,
    pub dest_node: Option<String>,
    pub dest_site: Option<String>,
    /// The server's flavor before and after (JSON `{id, flavor, vcpus,
    /// memory_mb, root_gb}`; the same for a migration).
    pub old_flavor: String,
    pub new_flavor: String,
    /// The server's `image` before the move (what a revert restores).
    pub old_image: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Inserts `m` (its `id` given by the database).
pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    let mut a = m.into_active_model();
    a.id = sea_orm::ActiveValue::NotSet;
    a.insert(db).await.map_err(internal)
}

/// The migration of `uuid`.
pub async fn find(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<Model>, Error> {
    Entity::find()
        .filter(Column::Uuid.eq(uuid))
        .one(db)
        .await
        .map_err(internal)
}

pub async fn update(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model()
        .reset_all()
        .update(db)
        .await
        .map_err(internal)
}

/// Records the node (and site) a move goes to.
pub async fn set_target(
    db: &impl ConnectionTrait,
    uuid: &str,
    node: Option<&str>,
    site: Option<&str>,
) -> Result<(), Error> {
    Entity::update_many()
        .col_expr(Column::DestNode, Expr::value(node.map(str::to_owned)))
        .col_expr(Column::DestSite, Expr::value(site.map(str::to_owned)))
        .col_expr(Column::UpdatedAt, Expr::value(super::now()))
        .filter(Column::Uuid.eq(uuid))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Sets the status of the migration of `uuid`.
pub async fn set_status(db: &impl ConnectionTrait, uuid: &str, to: &str) -> Result<(), Error> {
    if let Some(mut m) = find(db, uuid).await? {
        m.status = to.to_owned();
        m.updated_at = super::now();
        update(db, m).await?;
    }
    Ok(())
}

/// Whether a move of this status still holds something (a claim on the
/// target, a guest on either node, the disk's image).
pub fn open(status: &str) -> bool {
    ![
        status::CONFIRMED,
        status::REVERTED,
        status::DONE,
        status::ERROR,
    ]
    .contains(&status)
}

/// Every move, newest first (admins' `os-migrations`), optionally one
/// server's.
pub async fn list(db: &impl ConnectionTrait, instance: Option<&str>) -> Result<Vec<Model>, Error> {
    let mut q = Entity::find()
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id);
    if let Some(i) = instance {
        q = q.filter(Column::InstanceId.eq(i));
    }
    q.all(db).await.map_err(internal)
}

/// The server's move still in progress or awaiting a confirm, if any.
pub async fn open_of(db: &impl ConnectionTrait, instance: &str) -> Result<Option<Model>, Error> {
    Ok(list(db, Some(instance))
        .await?
        .into_iter()
        .find(|m| open(&m.status)))
}
