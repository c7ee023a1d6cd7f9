//! Aggregates: the groups a provider is in (microversion 1.1), so a
//! request can ask for providers `member_of` a site or a pool.

use virga_common::Error;
use virga_service::ServiceContext;

use super::resource_provider;
use crate::db::aggregate as db;

pub async fn list(ctx: &ServiceContext, uuid: &str) -> Result<(Vec<String>, i64), Error> {
    let p = resource_provider::get(ctx, uuid).await?;
    Ok((db::of(ctx.db(), uuid).await?, p.generation))
}

/// Sets the provider's aggregates (each a uuid) to exactly `aggs`; from
/// 1.19 as of generation `seen`, compare-and-set.
pub async fn set(
    ctx: &ServiceContext,
    uuid: &str,
    mut aggs: Vec<String>,
    seen: Option<i64>,
) -> Result<(Vec<String>, i64), Error> {
    resource_provider::get(ctx, uuid).await?;
    aggs.sort();
    aggs.dedup();
    let txn = virga_db::begin_write(ctx.db())
        .await
        .map_err(Error::internal)?;
    if let Some(seen) = seen
        && !crate::db::provider::bump(&txn, uuid, seen).await?
    {
        return Err(super::inventory::generation_conflict(uuid));
    }
    db::replace(&txn, uuid, &aggs).await?;
    txn.commit().await.map_err(Error::internal)?;
    list(ctx, uuid).await
}
