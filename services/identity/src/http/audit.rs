//! `/v3/OS-VIRGA/audit-events`: the stored audit trail (a Virga extension).

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use virga_common::Error;
use virga_service::auth::Auth;

use super::MAX_PAGE;
use crate::app::{IdentityState, audit as app};
use crate::db::audit::{self, AuditFilter};

#[derive(Debug, Serialize, ToSchema)]
pub struct Initiator {
    pub user_id: Option<String>,
    pub project_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTarget {
    #[serde(rename = "type")]
    pub target_type: String,
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The policy action, e.g. `identity:create_project`.
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    pub initiator: Initiator,
    pub target: AuditTarget,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl AuditEventView {
    fn new(e: audit::Model) -> Self {
        let detail = e.detail_json().unwrap_or(serde_json::Value::Null);
        AuditEventView {
            id: e.id,
            at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            action: e.action,
            outcome: e.outcome,
            initiator: Initiator {
                user_id: e.initiator_user_id,
                project_id: e.initiator_project_id,
            },
            target: AuditTarget {
                target_type: e.target_type,
                id: e.target_id,
            },
            request_id: e.request_id,
            detail,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventsResponse {
    pub audit_events: Vec<AuditEventView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditEventQuery {
    pub action: Option<String>,
    pub target_id: Option<String>,
    /// RFC 3339: only events at or after this time.
    pub since: Option<String>,
    /// At most this many events (default and maximum 1000).
    pub limit: Option<u64>,
}

/// Lists stored audit events (admin), newest first, filtered by action,
/// target or time.
#[utoipa::path(get, path = "/v3/OS-VIRGA/audit-events", tag = "audit", params(AuditEventQuery),
    security(("token" = [])),
    responses((status = 200, description = "Audit events, newest first", body = AuditEventsResponse),
              (status = 400, description = "A bad `since` or `limit`")))]
pub async fn list_audit_events(
    auth: Auth,
    State(state): State<IdentityState>,
    Query(q): Query<AuditEventQuery>,
) -> Result<Json<AuditEventsResponse>, Error> {
    let since = q
        .since
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    Error::BadRequest(format!(
                        "Invalid input for query parameter 'since': {s} is not an RFC 3339 time."
                    ))
                })
        })
        .transpose()?;
    let limit = match q.limit {
        None => MAX_PAGE,
        Some(l) if (1..=MAX_PAGE).contains(&l) => l,
        Some(l) => {
            return Err(Error::BadRequest(format!(
                "Invalid input for query parameter 'limit': {l} is not between 1 and {MAX_PAGE}."
            )));
        }
    };
    let filter = AuditFilter {
        action: q.action,
        target_id: q.target_id,
        since,
    };
    let events = app::list(&state, &auth, &filter, limit).await?;
    Ok(Json(AuditEventsResponse {
        audit_events: events.into_iter().map(AuditEventView::new).collect(),
    }))
}
