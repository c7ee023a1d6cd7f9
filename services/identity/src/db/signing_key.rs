//! Token signing keys: the persisted key ring (current, next, retired).
//!
//! The PEM is a private key, so `Debug` never shows it.

use std::fmt;

use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, IntoActiveModel, QueryOrder};

use super::{internal, must_find, now, store_err};

const KIND: &str = "signing key";

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum KeyState {
    #[sea_orm(string_value = "current")]
    Current,
    #[sea_orm(string_value = "next")]
    Next,
    #[sea_orm(string_value = "retired")]
    Retired,
}

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_key")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub pem: String,
    pub state: KeyState,
    pub retired_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("pem", &"<redacted>")
            .field("state", &self.state)
            .field("retired_at", &self.retired_at)
            .field("created_at", &self.created_at)
            .finish()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn insert(
    db: &impl ConnectionTrait,
    kid: &str,
    pem: &str,
    state: KeyState,
) -> Result<Model, Error> {
    ActiveModel {
        kid: Set(kid.to_string()),
        pem: Set(pem.to_string()),
        state: Set(state),
        retired_at: Set((state == KeyState::Retired).then(now)),
        created_at: Set(now()),
    }
    .insert(db)
    .await
    .map_err(store_err(KIND))
}

/// Every key, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Model>, Error> {
    Entity::find()
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Kid)
        .all(db)
        .await
        .map_err(internal)
}

/// Moves a key to `state`; retiring stamps `retired_at` so it can be pruned
/// once every token it signed has expired.
pub async fn set_state(
    db: &impl ConnectionTrait,
    kid: &str,
    state: KeyState,
) -> Result<Model, Error> {
    let key = must_find::<Entity, _>(db, KIND, kid).await?;
    // Retiring an already retired key keeps its stamp, so repeating the call
    // never postpones the key's pruning.
    let retired_at = match (state, key.state) {
        (KeyState::Retired, KeyState::Retired) => key.retired_at,
        (KeyState::Retired, _) => Some(now()),
        _ => None,
    };
    let mut am = key.into_active_model();
    am.state = Set(state);
    am.retired_at = Set(retired_at);
    am.update(db).await.map_err(store_err(KIND))
}

/// Deletes keys retired before `cutoff`; returns how many.
pub async fn prune_retired(
    db: &impl ConnectionTrait,
    cutoff: ChronoDateTimeUtc,
) -> Result<u64, Error> {
    let res = Entity::delete_many()
        .filter(Column::State.eq(KeyState::Retired))
        .filter(Column::RetiredAt.lt(cutoff))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(res.rows_affected)
}

/// One rotation as one conditional step: `current` retires, `next` becomes
/// current and `fresh` is the new next. Returns false, changing nothing,
/// when the stored ring is no longer the one the caller saw (another
/// identity instance rotated first). Run it in a transaction.
pub async fn rotate(
    db: &impl ConnectionTrait,
    current: &str,
    next: &str,
    fresh_kid: &str,
    fresh_pem: &str,
) -> Result<bool, Error> {
    let retired = Entity::update_many()
        .col_expr(Column::State, Expr::value(KeyState::Retired))
        .col_expr(Column::RetiredAt, Expr::value(now()))
        .filter(Column::Kid.eq(current))
        .filter(Column::State.eq(KeyState::Current))
        .exec(db)
        .await
        .map_err(internal)?;
    if retired.rows_affected != 1 {
        return Ok(false);
    }
    let promoted = Entity::update_many()
        .col_expr(Column::State, Expr::value(KeyState::Current))
        .filter(Column::Kid.eq(next))
        .filter(Column::State.eq(KeyState::Next))
        .exec(db)
        .await
        .map_err(internal)?;
    if promoted.rows_affected != 1 {
        return Ok(false);
    }
    insert(db, fresh_kid, fresh_pem, KeyState::Next).await?;
    Ok(true)
}
