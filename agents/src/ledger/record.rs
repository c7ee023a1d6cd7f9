//! One instance in the ledger, typed.

use chrono::{DateTime, Utc};
use virga_protocol::agent::{InstanceSpec, InstanceState, InstanceStatus};

use super::LedgerError;
use super::entity::instance;

/// What the centre last asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Desired {
    Running,
    Stopped,
    /// Running with its CPUs halted.
    Paused,
    /// Gone: destroy it if it exists, and remember the generation.
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebootKind {
    Soft,
    Hard,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub uuid: String,
    pub generation: u64,
    /// None only for the tombstone of an instance deleted before this
    /// node ever knew it.
    pub spec: Option<InstanceSpec>,
    pub desired: Desired,
    pub state: InstanceState,
    pub reason: Option<String>,
    /// The command that made the latest change.
    pub request_id: Option<String>,
    pub pending_reboot: Option<RebootKind>,
    /// What the guest's root disk was made from
    /// ([`InstanceSpec::build_key`]): another image or build in the spec
    /// means a rebuild.
    pub built_image: Option<String>,
    pub updated_at: DateTime<Utc>,
}

fn enum_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Record {
    /// A record for an instance first heard of now.
    pub fn new(uuid: &str, spec: Option<InstanceSpec>, desired: Desired) -> Record {
        Record {
            uuid: uuid.to_owned(),
            generation: 0,
            spec,
            desired,
            state: InstanceState::Building,
            reason: None,
            request_id: None,
            pending_reboot: None,
            built_image: None,
            updated_at: Utc::now(),
        }
    }

    pub fn status(&self) -> InstanceStatus {
        InstanceStatus {
            instance: self.uuid.clone(),
            generation: self.generation,
            state: self.state,
            reason: self.reason.clone(),
            failed: self
                .reason
                .as_deref()
                .is_some_and(crate::reconcile::is_failure),
        }
    }

    pub(super) fn from_row(row: instance::Model) -> Result<Record, LedgerError> {
        let bad = |source| LedgerError::Record {
            uuid: row.uuid.clone(),
            source,
        };
        let spec = serde_json::from_str(&row.spec).map_err(bad)?;
        let state =
            serde_json::from_value(serde_json::Value::String(row.state.clone())).map_err(bad)?;
        let desired = match row.power.as_str() {
            "running" => Desired::Running,
            "stopped" => Desired::Stopped,
            "paused" => Desired::Paused,
            _ => Desired::Deleted,
        };
        let pending_reboot = match row.pending_reboot.as_deref() {
            Some("hard") => Some(RebootKind::Hard),
            Some(_) => Some(RebootKind::Soft),
            None => None,
        };
        Ok(Record {
            generation: row.generation.max(0) as u64,
            spec,
            desired,
            state,
            reason: row.reason,
            request_id: row.request_id,
            pending_reboot,
            built_image: row.built_image,
            updated_at: row.updated_at,
            uuid: row.uuid,
        })
    }

    pub(super) fn to_row(&self) -> Result<instance::Model, LedgerError> {
        Ok(instance::Model {
            uuid: self.uuid.clone(),
            generation: i64::try_from(self.generation).unwrap_or(i64::MAX),
            spec: serde_json::to_string(&self.spec).map_err(|source| LedgerError::Record {
                uuid: self.uuid.clone(),
                source,
            })?,
            power: match self.desired {
                Desired::Running => "running",
                Desired::Stopped => "stopped",
                Desired::Paused => "paused",
                Desired::Deleted => "deleted",
            }
            .into(),
            state: enum_str(&self.state),
            reason: self.reason.clone(),
            request_id: self.request_id.clone(),
            pending_reboot: self.pending_reboot.map(|k| {
                match k {
                    RebootKind::Soft => "soft",
                    RebootKind::Hard => "hard",
                }
                .into()
            }),
            built_image: self.built_image.clone(),
            updated_at: self.updated_at,
        })
    }
}
