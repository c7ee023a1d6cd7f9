//! `network_node`: the nodes plans are made for, and `network_plan_lock`,
//! the row a plan sync locks first.

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use virga_db::sea_orm::{ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};

use super::internal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "network_node")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub node_id: String,
    pub tunnel_ip: Option<String>,
    /// JSON list of names.
    pub physical_networks: String,
    pub generation: i64,
    pub plan_hash: String,
    /// The last plan sent (`NodeNetwork` as JSON).
    pub plan: String,
    pub applied_generation: i64,
    /// JSON list of messages.
    pub errors: String,
    pub reported_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod lock {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "network_plan_lock")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub syncs: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Takes the plan lock (a write, so also SQLite's writer lock): plan
/// syncs run one at a time and each sees what the one before committed.
pub async fn lock(db: &impl ConnectionTrait) -> Result<(), Error> {
    lock::Entity::update_many()
        .col_expr(lock::Column::Syncs, Expr::col(lock::Column::Syncs).add(1))
        .filter(lock::Column::Id.eq(1))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>, Error> {
    Entity::find().all(db).await.map_err(internal)
}

/// Records an agent's report; returns the node's row as it is now.
pub async fn report(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    Entity::insert(m.clone().into_active_model())
        .on_conflict(
            OnConflict::column(Column::NodeId)
                .update_columns([
                    Column::TunnelIp,
                    Column::PhysicalNetworks,
                    Column::AppliedGeneration,
                    Column::Errors,
                    Column::ReportedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(internal)?;
    Entity::find_by_id(m.node_id.clone())
        .one(db)
        .await
        .map_err(internal)?
        .ok_or_else(|| Error::internal("a reported node vanished"))
}

/// Records a plan as sent: its generation, fingerprint and JSON.
pub async fn sent(
    db: &impl ConnectionTrait,
    node_id: &str,
    generation: i64,
    plan_hash: &str,
    plan: &str,
) -> Result<(), Error> {
    Entity::update_many()
        .col_expr(Column::Generation, Expr::value(generation))
        .col_expr(Column::PlanHash, Expr::value(plan_hash))
        .col_expr(Column::Plan, Expr::value(plan))
        .filter(Column::NodeId.eq(node_id))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Forgets the fingerprint, so the next sync sends the plan again.
pub async fn resend(db: &impl ConnectionTrait, node_id: &str) -> Result<(), Error> {
    Entity::update_many()
        .col_expr(Column::PlanHash, Expr::value(""))
        .filter(Column::NodeId.eq(node_id))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}
