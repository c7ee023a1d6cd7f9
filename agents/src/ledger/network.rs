//! The node's network plan in the ledger: the last `ensure_network` the
//! centre sent (a newer generation replaces it, an older one is stale),
//! so a restarted node rebuilds its bridges, DHCP servers and routers
//! before, or without, hearing from the centre.

use chrono::Utc;
use virga_db::sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, TransactionTrait};
use virga_protocol::network::NodeNetwork;

use super::entity::node_network;
use super::{Ledger, LedgerError};

/// The plan the ledger holds.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkRecord {
    pub generation: u64,
    pub state: NodeNetwork,
    pub request_id: Option<String>,
}

const ROW: i32 = 1;

impl Ledger {
    /// The network plan, if the centre ever sent one.
    pub async fn network(&self) -> Result<Option<NetworkRecord>, LedgerError> {
        let Some(row) = node_network::Entity::find_by_id(ROW).one(&self.db).await? else {
            return Ok(None);
        };
        let state = serde_json::from_str(&row.state).map_err(|source| LedgerError::Record {
            uuid: "node network".into(),
            source,
        })?;
        Ok(Some(NetworkRecord {
            generation: row.generation as u64,
            state,
            request_id: row.request_id,
        }))
    }

    /// Keeps `state` as the plan if `generation` is newer than the one
    /// held; `Err(have)` (as `Ok(Err)`) when it is not.
    pub async fn set_network(
        &self,
        generation: u64,
        state: &NodeNetwork,
        request_id: &str,
    ) -> Result<Result<(), u64>, LedgerError> {
        let json = serde_json::to_string(state).expect("a network plan serializes");
        let txn = self.db.begin().await?;
        let current = node_network::Entity::find_by_id(ROW).one(&txn).await?;
        if let Some(c) = &current
            && c.generation as u64 >= generation
        {
            return Ok(Err(c.generation as u64));
        }
        let row = node_network::Model {
            id: ROW,
            generation: generation as i64,
            state: json,
            request_id: Some(request_id.to_owned()),
            updated_at: Utc::now(),
        }
        .into_active_model();
        if current.is_some() {
            row.reset_all().update(&txn).await?;
        } else {
            row.insert(&txn).await?;
        }
        txn.commit().await?;
        Ok(Ok(()))
    }
}
