//! Revocation events: tokens issued before a time for a subject (a token
//! id, a user, a project...) are no longer valid.

use virga_auth::RevocationEvent;
use virga_common::Error;
use virga_db::sea_orm;
use virga_db::sea_orm::entity::prelude::*;
use virga_db::sea_orm::{ActiveValue::Set, Condition, QueryOrder};

use super::{internal, now, store_err};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revocation_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// What `subject` names, e.g. `token`, `user`, `project`.
    pub kind: String,
    pub subject: String,
    pub issued_before: Option<ChronoDateTimeUtc>,
    pub expires_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn record(
    db: &impl ConnectionTrait,
    kind: &str,
    subject: &str,
    issued_before: Option<ChronoDateTimeUtc>,
    expires_at: Option<ChronoDateTimeUtc>,
) -> Result<Model, Error> {
    ActiveModel {
        id: Set(super::new_id()),
        kind: Set(kind.to_string()),
        subject: Set(subject.to_string()),
        issued_before: Set(issued_before),
        expires_at: Set(expires_at),
        created_at: Set(now()),
    }
    .insert(db)
    .await
    .map_err(store_err("revocation event"))
}

/// Events still in force at `at` (not yet expired), oldest first.
pub async fn active(db: &impl ConnectionTrait, at: ChronoDateTimeUtc) -> Result<Vec<Model>, Error> {
    Entity::find()
        .filter(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.gt(at)),
        )
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await
        .map_err(internal)
}

/// Deletes events that expired by `at`: the tokens they revoke are dead anyway.
pub async fn prune(db: &impl ConnectionTrait, at: ChronoDateTimeUtc) -> Result<u64, Error> {
    let res = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(at))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(res.rows_affected)
}

/// Stores a revocation event. A user's or project's event lasts until every
/// token issued before it has expired (`max_lifetime` plus the verifiers'
/// leeway), then it can be pruned like the others.
pub async fn record_event(
    db: &impl ConnectionTrait,
    event: &RevocationEvent,
    max_lifetime: std::time::Duration,
) -> Result<Model, Error> {
    let keep = max_lifetime
        .as_secs()
        .saturating_add(virga_auth::LEEWAY_SECS);
    let (kind, subject, issued_before, expires_at) = match event {
        RevocationEvent::Token { jti, expires_at } => {
            ("token", jti.to_string(), None, Some(*expires_at))
        }
        RevocationEvent::AuditId {
            audit_id,
            expires_at,
        } => ("audit_id", audit_id.clone(), None, Some(*expires_at)),
        RevocationEvent::User {
            user_id,
            issued_before_ms,
        } => (
            "user",
            user_id.clone(),
            Some(*issued_before_ms),
            Some((issued_before_ms / 1000).saturating_add(keep)),
        ),
        RevocationEvent::Project {
            project_id,
            issued_before_ms,
        } => (
            "project",
            project_id.clone(),
            Some(*issued_before_ms),
            Some((issued_before_ms / 1000).saturating_add(keep)),
        ),
    };
    record(
        db,
        kind,
        &subject,
        issued_before.map(from_unix_ms).transpose()?,
        expires_at
            .map(|s| from_unix_ms(s.saturating_mul(1000)))
            .transpose()?,
    )
    .await
}

/// The event a stored row describes.
pub fn to_event(row: &Model) -> Result<RevocationEvent, Error> {
    let unix = |t: Option<ChronoDateTimeUtc>| -> Result<u64, Error> {
        t.and_then(|t| u64::try_from(t.timestamp()).ok())
            .ok_or_else(|| Error::internal(format!("revocation {} lacks a time", row.id)))
    };
    let unix_ms = |t: Option<ChronoDateTimeUtc>| -> Result<u64, Error> {
        t.and_then(|t| u64::try_from(t.timestamp_millis()).ok())
            .ok_or_else(|| Error::internal(format!("revocation {} lacks a time", row.id)))
    };
    Ok(match row.kind.as_str() {
        "token" => RevocationEvent::Token {
            jti: row.subject.parse().map_err(Error::internal)?,
            expires_at: unix(row.expires_at)?,
        },
        "audit_id" => RevocationEvent::AuditId {
            audit_id: row.subject.clone(),
            expires_at: unix(row.expires_at)?,
        },
        "user" => RevocationEvent::User {
            user_id: row.subject.clone(),
            issued_before_ms: unix_ms(row.issued_before)?,
        },
        "project" => RevocationEvent::Project {
            project_id: row.subject.clone(),
            issued_before_ms: unix_ms(row.issued_before)?,
        },
        other => {
            return Err(Error::internal(format!(
                "revocation {} has unknown kind {other}",
                row.id
            )));
        }
    })
}

fn from_unix_ms(ms: u64) -> Result<ChronoDateTimeUtc, Error> {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .ok_or_else(|| Error::internal(format!("time {ms} ms out of range")))
}
