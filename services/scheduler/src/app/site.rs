//! Sites: an edge site is the root provider of its tree (its nodes are
//! children, their devices grandchildren) plus what scheduling needs to
//! know of the place: its kind, region, coordinates and the network
//! quality to the centre (measured by telemetry, or given by an
//! operator until then).

use virga_common::Error;
use virga_service::ServiceContext;

use crate::db::{now, provider, site as db};

pub use crate::db::site::Model;

/// The kinds of edge site (and of node) the standard names.
pub const KINDS: [&str; 4] = ["idc", "mec", "aio", "gateway"];

/// What a caller gives for a site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteSpec {
    pub name: String,
    pub kind: String,
    pub region: String,
    pub location: Option<(f64, f64)>,
}

/// Measured network quality to the centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    pub latency_ms: f64,
    pub bandwidth_mbps: f64,
    pub packet_loss: f64,
}

fn not_found(uuid: &str) -> Error {
    Error::NotFound {
        kind: "site",
        id: uuid.to_owned(),
    }
}

pub async fn get(ctx: &ServiceContext, uuid: &str) -> Result<(Model, String), Error> {
    let s = db::find(ctx.db(), uuid)
        .await?
        .ok_or_else(|| not_found(uuid))?;
    let p = provider::find(ctx.db(), uuid)
        .await?
        .ok_or_else(|| not_found(uuid))?;
    Ok((s, p.name))
}

pub async fn list(
    ctx: &ServiceContext,
    region: Option<&str>,
    kind: Option<&str>,
) -> Result<Vec<(Model, String)>, Error> {
    let sites = db::list(ctx.db(), region, kind).await?;
    let uuids: Vec<String> = sites.iter().map(|s| s.uuid.clone()).collect();
    let names: std::collections::BTreeMap<String, String> =
        crate::db::candidate::providers(ctx.db(), &uuids)
            .await?
            .into_iter()
            .map(|p| (p.uuid, p.name))
            .collect();
    Ok(sites
        .into_iter()
        .map(|s| {
            let n = names.get(&s.uuid).cloned().unwrap_or_default();
            (s, n)
        })
        .collect())
}

/// Creates the site and its root provider together.
pub async fn create(ctx: &ServiceContext, spec: SiteSpec) -> Result<(Model, String), Error> {
    let uuid = uuid::Uuid::new_v4().to_string();
    let at = now();
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    provider::create(
        &txn,
        provider::Model {
            uuid: uuid.clone(),
            name: spec.name.clone(),
            generation: 0,
            parent_uuid: None,
            root_uuid: uuid.clone(),
            created_at: at,
            updated_at: at,
        },
    )
    .await?;
    let m = db::insert(
        &txn,
        Model {
            uuid,
            kind: spec.kind,
            region: spec.region,
            latitude: spec.location.map(|l| l.0),
            longitude: spec.location.map(|l| l.1),
            latency_ms: None,
            bandwidth_mbps: None,
            packet_loss: None,
            quality_at: None,
            created_at: at,
            updated_at: at,
        },
    )
    .await?;
    txn.commit().await.map_err(Error::internal)?;
    tracing::info!(site = %m.uuid, name = %spec.name, kind = %m.kind, "site created");
    Ok((m, spec.name))
}

pub async fn update(
    ctx: &ServiceContext,
    uuid: &str,
    spec: SiteSpec,
) -> Result<(Model, String), Error> {
    let (mut m, name) = get(ctx, uuid).await?;
    if name != spec.name {
        provider::rename(ctx.db(), uuid, &spec.name).await?;
    }
    m.kind = spec.kind;
    m.region = spec.region;
    m.latitude = spec.location.map(|l| l.0);
    m.longitude = spec.location.map(|l| l.1);
    m.updated_at = now();
    db::update(ctx.db(), m).await?;
    crate::app::select::cache::changed(ctx);
    get(ctx, uuid).await
}

/// Records a measurement of the site's link to the centre.
pub async fn set_quality(
    ctx: &ServiceContext,
    uuid: &str,
    q: Quality,
) -> Result<(Model, String), Error> {
    let (mut m, _) = get(ctx, uuid).await?;
    m.latency_ms = Some(q.latency_ms);
    m.bandwidth_mbps = Some(q.bandwidth_mbps);
    m.packet_loss = Some(q.packet_loss);
    m.quality_at = Some(now());
    m.updated_at = now();
    db::update(ctx.db(), m).await?;
    crate::app::select::cache::changed(ctx);
    get(ctx, uuid).await
}

/// Deletes a site with no nodes left (409 otherwise).
pub async fn delete(ctx: &ServiceContext, uuid: &str) -> Result<(), Error> {
    get(ctx, uuid).await?;
    super::resource_provider::delete(ctx, uuid).await
}
