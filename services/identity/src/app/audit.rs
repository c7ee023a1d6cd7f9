//! The audit trail: every identity change and every authentication, as a
//! CADF-like record (who, what, on what, with what outcome) stored in the
//! audit log and published on the bus as `audit.identity`.
//!
//! Recording never fails the request it describes: a change that happened
//! is not undone because its record could not be written; the failure is
//! logged instead.

use serde_json::{Value, json};
use virga_bus::Context;
use virga_service::auth::Auth;

use super::IdentityState;
use crate::db::audit::{self, NewAuditEvent};

/// The bus event every audit record is published as.
pub const EVENT: &str = "audit.identity";

pub struct Record<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub outcome: Outcome,
    pub detail: Value,
}

#[derive(Clone, Copy, Debug)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// A change made by `auth`'s caller.
pub async fn change(
    state: &IdentityState,
    auth: &Auth,
    action: &str,
    target_type: &str,
    target_id: &str,
) {
    emit(
        state,
        Some(auth),
        Record {
            action,
            target_type,
            target_id,
            outcome: Outcome::Success,
            detail: Value::Null,
        },
    )
    .await;
}

pub async fn emit(state: &IdentityState, auth: Option<&Auth>, record: Record<'_>) {
    let event = NewAuditEvent {
        action: record.action.to_string(),
        outcome: record.outcome.as_str().to_string(),
        initiator_user_id: auth.map(|a| a.claims().sub.clone()),
        initiator_project_id: auth.and_then(|a| a.claims().project_id().map(String::from)),
        target_type: record.target_type.to_string(),
        target_id: record.target_id.to_string(),
        request_id: auth.and_then(|a| a.request_id().map(|r| r.as_str().to_string())),
        detail: record.detail,
    };
    match audit::record(state.ctx.db(), event).await {
        Ok(row) => {
            let args = json!({
                "id": row.id,
                "at": row.at,
                "action": row.action,
                "outcome": row.outcome,
                "initiator": {"user_id": row.initiator_user_id, "project_id": row.initiator_project_id},
                "target": {"type": row.target_type, "id": row.target_id},
                "request_id": row.request_id,
            });
            if let Err(e) = state
                .ctx
                .bus()
                .notify(EVENT, args, &Context::default())
                .await
            {
                tracing::warn!(error = %virga_common::error::chain(&e), "could not publish an audit event");
            }
        }
        Err(e) => {
            tracing::error!(action = record.action, target = record.target_id, error = %virga_common::error::chain(&e), "could not record an audit event");
        }
    }
}

/// The newest `limit` stored records matching `filter`, newest first (admin).
pub async fn list(
    state: &IdentityState,
    auth: &Auth,
    filter: &audit::AuditFilter,
    limit: u64,
) -> Result<Vec<audit::Model>, virga_common::Error> {
    auth.enforce("identity:list_audit_events", &virga_policy::Target::new())?;
    audit::list(state.ctx.db(), filter, limit).await
}
