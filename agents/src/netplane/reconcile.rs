//! The network plan's reconcile step: apply the ledger's plan to the node
//! (on the agent's first pass, after each `ensure_network`, and on every
//! tick, which repairs what was changed behind the agent's back) and tell
//! the centre how it went: after a command always, otherwise when the
//! outcome changed. A node that never got a plan is left alone, and says
//! so once (generation 0), with its tunnel address and physical networks.
//! A tick writes the security-group filter whole only when a cheap listing
//! shows it drifted, or when the last whole write is [`WHOLE_EVERY`] old
//! (edits inside a chain do not show in the listing).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use virga_protocol::agent::AgentEvent;
use virga_protocol::network::NodeNetwork;

use super::{Filter, Host};
use crate::ledger::LedgerError;
use crate::reconcile::Reconciler;

/// How often a tick writes the filter whole even when it looks intact.
pub const WHOLE_EVERY: Duration = Duration::from_secs(600);

/// The node's data plane and the last outcome reported.
pub struct Plane {
    /// `None`: the data plane is off on this node (plans are kept, not
    /// applied).
    pub host: Option<Host>,
    reported: Mutex<Option<(u64, Vec<String>)>>,
    /// The plan last applied without errors, since the agent started.
    applied: Mutex<Option<NodeNetwork>>,
    /// The ports' filter indexes, as last written.
    indexes: Mutex<super::nft::Indexes>,
    /// When a pass last wrote the filter whole.
    whole_at: Mutex<Option<Instant>>,
}

impl Plane {
    pub fn new(host: Option<Host>) -> Arc<Plane> {
        Arc::new(Plane {
            host,
            reported: Mutex::new(None),
            applied: Mutex::new(None),
            indexes: Mutex::default(),
            whole_at: Mutex::default(),
        })
    }

    /// The `agent.network` event of an outcome, with what the node offers.
    fn event(
        &self,
        node: &str,
        generation: u64,
        errors: Vec<String>,
        request_id: Option<String>,
    ) -> AgentEvent {
        AgentEvent::Network {
            node: node.to_owned(),
            generation,
            errors,
            tunnel_ip: self.host.as_ref().and_then(|h| h.tunnel_ip),
            physical_networks: self
                .host
                .as_ref()
                .map(|h| h.physical.keys().cloned().collect())
                .unwrap_or_default(),
            request_id,
            at: Utc::now(),
        }
    }
}

impl Plane {
    /// The bridges among `wanted` the data plane has not made yet (none
    /// when it is off: then nothing here makes them, and the driver is
    /// left to plug what exists).
    pub async fn missing_bridges(&self, wanted: Vec<String>) -> Vec<String> {
        let Some(host) = self.host.clone() else {
            return vec![];
        };
        if wanted.is_empty() {
            return vec![];
        }
        tokio::task::spawn_blocking(move || match host.links(None) {
            Ok(links) => wanted
                .into_iter()
                .filter(|b| !links.iter().any(|l| &l.ifname == b))
                .collect(),
            // Cannot tell: let the build try and say what failed.
            Err(_) => vec![],
        })
        .await
        .unwrap_or_default()
    }
}

impl Reconciler {
    /// Applies the ledger's network plan; `request_id` when a command asked.
    pub async fn network(&self, request_id: Option<String>) -> Result<(), LedgerError> {
        let plane = self.network.clone();
        let Some(record) = self.ledger.network().await? else {
            // No plan yet: say once what the node offers.
            let mut last = plane.reported.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_none() {
                *last = Some((0, Vec::new()));
                self.outbox
                    .push(plane.event(&self.node, 0, Vec::new(), request_id));
            }
            return Ok(());
        };
        // A command changes what it changes; a pass (start, tick) checks
        // and repairs everything.
        let previous = match request_id {
            Some(_) => plane
                .applied
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            None => None,
        };
        let errors = match plane.host.clone() {
            Some(host) => {
                let state = record.state.clone();
                let indexes = plane
                    .indexes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let p = plane.clone();
                tokio::task::spawn_blocking(move || {
                    let (errors, now) = match previous {
                        Some(prev) => super::apply_changes(&host, &state, &prev, &indexes),
                        None => {
                            let mut at = p.whole_at.lock().unwrap_or_else(|p| p.into_inner());
                            let filter = match *at {
                                Some(t) if t.elapsed() < WHOLE_EVERY => Filter::IfDrifted,
                                _ => {
                                    *at = Some(Instant::now());
                                    Filter::Whole
                                }
                            };
                            drop(at);
                            super::apply_keeping(&host, &state, &indexes, filter)
                        }
                    };
                    *p.indexes.lock().unwrap_or_else(|p| p.into_inner()) = now;
                    errors
                })
                .await
                .map(|errs| {
                    errs.iter()
                        .map(|e| virga_common::error::chain(e))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_else(|e| vec![format!("applying the network plan panicked: {e}")])
            }
            None => {
                vec!["the network data plane is off on this node (agent.network.dataplane)".into()]
            }
        };
        for e in &errors {
            tracing::warn!(generation = record.generation, error = %e, "network plan not fully applied");
        }
        *plane.applied.lock().unwrap_or_else(|p| p.into_inner()) =
            errors.is_empty().then(|| record.state.clone());
        let outcome = (record.generation, errors.clone());
        let changed = {
            let mut last = plane.reported.lock().unwrap_or_else(|p| p.into_inner());
            let changed = last.as_ref() != Some(&outcome);
            *last = Some(outcome);
            changed
        };
        if request_id.is_some() || changed {
            self.outbox
                .push(plane.event(&self.node, record.generation, errors, request_id));
        }
        Ok(())
    }
}
