//! Audit events: who did what to which resource, and how it ended.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, QueryOrder, QuerySelect, QueryTrait};

use super::{internal, now, store_err};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub at: ChronoDateTimeUtc,
    /// e.g. `identity.project.created`.
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    pub initiator_user_id: Option<String>,
    pub initiator_project_id: Option<String>,
    pub target_type: String,
    pub target_id: String,
    pub request_id: Option<String>,
    /// A JSON object, as text; see [`Model::detail_json`].
    pub detail: String,
}

impl Model {
    pub fn detail_json(&self) -> Result<serde_json::Value, Error> {
        serde_json::from_str(&self.detail).map_err(Error::internal)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[derive(Debug, Clone, Default)]
pub struct NewAuditEvent {
    pub action: String,
    pub outcome: String,
    pub initiator_user_id: Option<String>,
    pub initiator_project_id: Option<String>,
    pub target_type: String,
    pub target_id: String,
    pub request_id: Option<String>,
    pub detail: serde_json::Value,
}

pub async fn record(db: &impl ConnectionTrait, e: NewAuditEvent) -> Result<Model, Error> {
    ActiveModel {
        id: Set(super::new_id()),
        at: Set(now()),
        action: Set(e.action),
        outcome: Set(e.outcome),
        initiator_user_id: Set(e.initiator_user_id),
        initiator_project_id: Set(e.initiator_project_id),
        target_type: Set(e.target_type),
        target_id: Set(e.target_id),
        request_id: Set(e.request_id),
        detail: Set(e.detail.to_string()),
    }
    .insert(db)
    .await
    .map_err(store_err("audit event"))
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub since: Option<ChronoDateTimeUtc>,
}

/// The newest `limit` events matching `f`, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    f: &AuditFilter,
    limit: u64,
) -> Result<Vec<Model>, Error> {
    let mut q = Entity::find();
    q = q.apply_if(f.action.as_deref(), |q, v| q.filter(Column::Action.eq(v)));
    q = q.apply_if(f.target_id.as_deref(), |q, v| {
        q.filter(Column::TargetId.eq(v))
    });
    q = q.apply_if(f.since, |q, v| q.filter(Column::At.gte(v)));
    q.order_by_desc(Column::At)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db)
        .await
        .map_err(internal)
}
