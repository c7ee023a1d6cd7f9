//! Sites: `site`, one row per edge site, keyed by its root provider.

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{IntoActiveModel, QueryOrder};

use super::internal;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "site")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub uuid: String,
    pub kind: String,
    pub region: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub latency_ms: Option<f64>,
    pub bandwidth_mbps: Option<f64>,
    pub packet_loss: Option<f64>,
    pub quality_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn insert(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    m.into_active_model().insert(db).await.map_err(internal)
}

pub async fn find(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<Model>, Error> {
    Entity::find_by_id(uuid.to_owned())
        .one(db)
        .await
        .map_err(internal)
}

/// Sites, optionally of one region or kind.
pub async fn list(
    db: &impl ConnectionTrait,
    region: Option<&str>,
    kind: Option<&str>,
) -> Result<Vec<Model>, Error> {
    let mut q = Entity::find().order_by_asc(Column::Uuid);
    if let Some(r) = region {
        q = q.filter(Column::Region.eq(r));
    }
    if let Some(k) = kind {
        q = q.filter(Column::Kind.eq(k));
    }
    q.all(db).await.map_err(internal)
}

pub async fn update(db: &impl ConnectionTrait, m: Model) -> Result<Model, Error> {
    let mut a = m.into_active_model();
    a = a.reset_all();
    a.update(db).await.map_err(internal)
}
