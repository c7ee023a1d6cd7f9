//! OCI blobs: `image_blob` (a blob the store holds, by digest) and
//! `image_blob_ref` (an image uses a blob; gone with the image).
//!
//! Sharing races with collection: an upload may find a blob present just
//! as the last image using it is deleted. So every claim bumps the blob's
//! `claims` counter in the transaction that records the reference, and a
//! collector moves a blob to `deleting` only if nothing references it and
//! the counter is still what it saw; a claim that finds a blob `deleting`
//! waits for it to go and writes it anew.

use chrono::{DateTime, Utc};
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::sea_query::{ExprTrait, OnConflict, Query};
use virga_db::sea_orm::{ActiveValue::Set, DatabaseConnection};

use super::{internal, now};

pub const PRESENT: &str = "present";
pub const DELETING: &str = "deleting";

pub mod usage {
    use virga_db::sea_orm;
    use virga_db::sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "image_blob_ref")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub image_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub digest: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "image_blob")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub digest: String,
    pub size: i64,
    pub state: String,
    pub claims: i64,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Present,
    Absent,
    Deleting { since: DateTime<Utc> },
}

fn unreferenced() -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(usage::Entity)
            .and_where(
                Expr::col((usage::Entity, usage::Column::Digest)).equals((Entity, Column::Digest)),
            )
            .to_owned(),
    )
    .not()
}

/// Records that `image_id` uses `digest` and says whether the store has it.
pub async fn claim(db: &DatabaseConnection, image_id: &str, digest: &str) -> Result<Held, Error> {
    let txn = virga_db::begin_write(db).await.map_err(internal)?;
    usage::Entity::insert(usage::ActiveModel {
        image_id: Set(image_id.to_owned()),
        digest: Set(digest.to_owned()),
    })
    .on_conflict(
        OnConflict::columns([usage::Column::ImageId, usage::Column::Digest])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await
    .map_err(internal)?;
    Entity::update_many()
        .col_expr(Column::Claims, Expr::col(Column::Claims).add(1))
        .filter(Column::Digest.eq(digest))
        .exec(&txn)
        .await
        .map_err(internal)?;
    let row = Entity::find_by_id(digest.to_owned())
        .one(&txn)
        .await
        .map_err(internal)?;
    txn.commit().await.map_err(internal)?;
    Ok(match row {
        None => Held::Absent,
        Some(r) if r.state == PRESENT => Held::Present,
        Some(r) => Held::Deleting {
            since: r.updated_at,
        },
    })
}

/// Marks a blob the caller wrote as present; false if it is being
/// deleted (which a claim held meanwhile rules out).
pub async fn written(db: &impl ConnectionTrait, digest: &str, size: u64) -> Result<bool, Error> {
    let size = i64::try_from(size).map_err(Error::internal)?;
    // Two rounds: an insert can lose to a concurrent writer's insert, and
    // the update then finds its row.
    for _ in 0..2 {
        let r = Entity::update_many()
            .col_expr(Column::Claims, Expr::col(Column::Claims).add(1))
            .col_expr(Column::UpdatedAt, Expr::value(now()))
            .filter(Column::Digest.eq(digest))
            .filter(Column::State.eq(PRESENT))
            .exec(db)
            .await
            .map_err(internal)?;
        if r.rows_affected == 1 {
            return Ok(true);
        }
        let inserted = Entity::insert(ActiveModel {
            digest: Set(digest.to_owned()),
            size: Set(size),
            state: Set(PRESENT.to_owned()),
            claims: Set(1),
            updated_at: Set(now()),
        })
        .on_conflict(OnConflict::column(Column::Digest).do_nothing().to_owned())
        .exec_without_returning(db)
        .await
        .map_err(internal)?;
        if inserted == 1 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Drops every blob reference of an image.
pub async fn release(db: &impl ConnectionTrait, image_id: &str) -> Result<(), Error> {
    usage::Entity::delete_many()
        .filter(usage::Column::ImageId.eq(image_id))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Present blobs no image uses, with the claim counter seen.
pub async fn unused(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, Error> {
    let rows = Entity::find()
        .filter(Column::State.eq(PRESENT))
        .filter(unreferenced())
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|r| (r.digest, r.claims)).collect())
}

/// Moves an unused blob to `deleting` if nobody claimed it since `claims`
/// was seen; true when the caller is now to delete it.
pub async fn start_delete(
    db: &impl ConnectionTrait,
    digest: &str,
    claims: i64,
) -> Result<bool, Error> {
    let r = Entity::update_many()
        .col_expr(Column::State, Expr::value(DELETING))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Digest.eq(digest))
        .filter(Column::State.eq(PRESENT))
        .filter(Column::Claims.eq(claims))
        .filter(unreferenced())
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(r.rows_affected == 1)
}

/// Blobs left `deleting` since before `before` (their collector died).
pub async fn stale_deleting(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<Vec<String>, Error> {
    let rows = Entity::find()
        .filter(Column::State.eq(DELETING))
        .filter(Column::UpdatedAt.lt(before))
        .all(db)
        .await
        .map_err(internal)?;
    Ok(rows.into_iter().map(|r| r.digest).collect())
}

/// Removes a deleted blob's row (its data is gone).
pub async fn forget(db: &impl ConnectionTrait, digest: &str) -> Result<(), Error> {
    Entity::delete_many()
        .filter(Column::Digest.eq(digest))
        .filter(Column::State.eq(DELETING))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Every blob row (for tests and operators).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>, Error> {
    Entity::find().all(db).await.map_err(internal)
}
