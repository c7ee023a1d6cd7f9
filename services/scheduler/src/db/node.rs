//! Nodes: `node`, one row per edge node, keyed by its provider (a child
//! of its site's), with what its agent last reported.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::Expr;
use virga_db::sea_orm::sea_query::OnConflict;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder};

use super::{internal, now};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "node")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub uuid: String,
    pub site_uuid: String,
    pub hostname: String,
    pub kind: String,
    pub arch: String,
    pub labels: String,
    pub facts: String,
    pub load: String,
    pub images: String,
    pub layers: String,
    pub disabled: bool,
    /// Down whatever its heartbeats say, until an operator says otherwise.
    pub forced_down: bool,
    pub down_reported: bool,
    pub last_seen: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Inserts or replaces what is known of a node (keeping `created_at`).
pub async fn upsert(db: &impl ConnectionTrait, m: Model) -> Result<(), Error> {
    Entity::insert(m.into_active_model())
        .on_conflict(
            OnConflict::column(Column::Uuid)
                .update_columns([
                    Column::SiteUuid,
                    Column::Hostname,
                    Column::Kind,
                    Column::Arch,
                    Column::Labels,
                    Column::Facts,
                    Column::Load,
                    Column::Images,
                    Column::Layers,
                    Column::LastSeen,
                    Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(internal)?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(uuid.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

pub async fn list(db: &impl ConnectionTrait, site: Option<&str>) -> Result<Vec<Model>, Error> {
    let mut q = Entity::find().order_by_asc(Column::Hostname);
    if let Some(s) = site {
        q = q.filter(Column::SiteUuid.eq(s));
    }
    q.all(db).await.map_err(internal)
}

/// Nodes in service, not yet reported down, last heard before `before`.
pub async fn newly_silent(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(Column::Disabled.eq(false))
        .filter(Column::DownReported.eq(false))
        .filter(Column::LastSeen.lt(before))
        .all(db)
        .await
        .map_err(internal)
}

/// Sets whether the node's going down was announced, if it was not
/// already so: true when this call changed it (one announcer wins).
pub async fn mark_down_reported(
    db: &impl ConnectionTrait,
    uuid: &str,
    down: bool,
) -> Result<bool, Error> {
    let r = Entity::update_many()
        .col_expr(Column::DownReported, Expr::value(down))
        .filter(Column::Uuid.eq(uuid))
        .filter(Column::DownReported.eq(!down))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// Records a heartbeat: load and cache contents, and the time; false
/// when the node is unknown.
pub async fn heartbeat(
    db: &impl ConnectionTrait,
    uuid: &str,
    load: &str,
    images: &str,
    layers: &str,
) -> Result<bool, Error> {
    let at = now();
    let r = Entity::update_many()
        .col_expr(Column::Load, Expr::value(load))
        .col_expr(Column::Images, Expr::value(images))
        .col_expr(Column::Layers, Expr::value(layers))
        .col_expr(Column::LastSeen, Expr::value(at))
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::Uuid.eq(uuid))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// An operator's flag on a node.
#[derive(Debug, Clone, Copy)]
pub enum Flag {
    Disabled,
    ForcedDown,
}

pub async fn set_flag(
    db: &impl ConnectionTrait,
    uuid: &str,
    flag: Flag,
    on: bool,
) -> Result<(), Error> {
    let column = match flag {
        Flag::Disabled => Column::Disabled,
        Flag::ForcedDown => Column::ForcedDown,
    };
    Entity::update_many()
        .col_expr(column, Expr::value(on))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Uuid.eq(uuid))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
