//! The reconcile loop's one step: make one instance on the host match its
//! ledger record, and record (and report) what it is now.
//!
//! - Deleted: destroy the guest if it exists.
//! - No guest yet (or it vanished): build it from its image, started if
//!   it should run. What the host cannot satisfy (image missing, another
//!   architecture, too much memory) puts it in `error` with the reason,
//!   until a newer command; other instances are unaffected.
//! - Another image than it was built from: rebuild it (the upgrade).
//! - Should run but does not: after the agent (or host) restarted, or
//!   when it crashed, start it. A guest that was seen running and then
//!   shut down from inside stays stopped, as Nova does: the record's
//!   desired power becomes stopped and the centre is told.
//! - Should not run but does: stop it (gracefully, then forced).
//! - Should be paused: pause it (started first if need be); paused and
//!   should run: unpause it.
//! - A reboot asked and not yet done: do it (it leaves the guest running).
//!
//! Guests the ledger does not know are never touched here; full reports
//! list them as unmanaged.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use virga_protocol::agent::{AgentEvent, InstanceSpec, InstanceState};

use crate::driver::{BootImage, Driver, DriverError, GuestState};
use crate::images::Images;
use crate::ledger::{Desired, Ledger, LedgerError, RebootKind, Record};
use crate::outbox::Outbox;

/// Everything a reconcile step uses.
#[derive(Clone)]
pub struct Reconciler {
    pub node: String,
    pub host_arch: String,
    pub ledger: Ledger,
    pub driver: Arc<dyn Driver>,
    pub images: Arc<dyn Images>,
    pub outbox: Arc<Outbox>,
    pub stop_timeout: Duration,
    /// Where disks are written before they leave the node (`export`).
    pub exports: std::path::PathBuf,
    /// The node's network data plane (`crate::netplane::reconcile`).
    pub network: Arc<crate::netplane::reconcile::Plane>,
}

/// The reason of a guest not built yet because its bridges are missing.
const WAITING_FOR_NETWORK: &str = "waiting for its network";

fn observed(g: Option<GuestState>) -> InstanceState {
    match g {
        Some(GuestState::Running) => InstanceState::Running,
        Some(GuestState::Stopped) => InstanceState::Stopped,
        Some(GuestState::Paused) => InstanceState::Paused,
        Some(GuestState::Crashed) => InstanceState::Crashed,
        None => InstanceState::Deleted,
    }
}

impl Reconciler {
    /// Reconciles every instance; `after_restart` on the agent's first pass.
    pub async fn all(&self, after_restart: bool) -> Result<(), LedgerError> {
        for rec in self.ledger.all().await? {
            self.step(rec, after_restart).await?;
        }
        Ok(())
    }

    /// Reconciles one instance, if the ledger has it.
    pub async fn instance(&self, uuid: &str) -> Result<(), LedgerError> {
        match self.ledger.get(uuid).await? {
            Some(rec) => self.step(rec, false).await,
            None => Ok(()),
        }
    }

    /// A full report: every instance in the ledger (tombstones left out)
    /// and every guest the hypervisor runs that the ledger does not know.
    /// Reconciles the instances waiting for their network's bridges.
    pub async fn networked(&self) -> Result<(), LedgerError> {
        for rec in self.ledger.all().await? {
            let waiting = rec.state == InstanceState::Building
                && rec
                    .reason
                    .as_deref()
                    .is_some_and(|r| r.starts_with(WAITING_FOR_NETWORK));
            if waiting {
                self.instance(&rec.uuid).await?;
            }
        }
        Ok(())
    }

    pub async fn report(&self) -> Result<AgentEvent, LedgerError> {
        let records = self.ledger.all().await?;
        let guests = match self.driver.list().await {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %virga_common::error::chain(&e), "cannot list guests");
                Vec::new()
            }
        };
        let unmanaged = guests
            .into_iter()
            .filter(|g| !records.iter().any(|r| r.uuid == g.id))
            .map(|g| g.id)
            .collect();
        Ok(AgentEvent::Report {
            node: self.node.clone(),
            instances: records
                .iter()
                .filter(|r| r.desired != Desired::Deleted || r.state != InstanceState::Deleted)
                .map(Record::status)
                .collect(),
            unmanaged,
            at: Utc::now(),
        })
    }

    async fn step(&self, rec: Record, after_restart: bool) -> Result<(), LedgerError> {
        let mut next = rec.clone();
        self.converge(&mut next, after_restart).await;
        if next.state != rec.state
            || next.reason != rec.reason
            || next.built_image != rec.built_image
            || next.desired != rec.desired
            || next.pending_reboot != rec.pending_reboot
        {
            let saved = next.clone();
            self.ledger
                .update(&rec.uuid, move |r| {
                    r.state = saved.state;
                    r.reason = saved.reason;
                    r.built_image = saved.built_image;
                    r.desired = saved.desired;
                    r.pending_reboot = saved.pending_reboot;
                })
                .await?;
        }
        // A reboot or a rebuild done is news even when the state is the same.
        let acted =
            next.pending_reboot != rec.pending_reboot || next.built_image != rec.built_image;
        if next.state != rec.state || next.reason != rec.reason || acted {
            tracing::info!(instance = %rec.uuid, from = ?rec.state, to = ?next.state,
                reason = next.reason.as_deref().unwrap_or(""), "instance state");
            self.outbox.push(AgentEvent::InstanceState {
                node: self.node.clone(),
                status: next.status(),
                request_id: next.request_id.clone(),
                at: Utc::now(),
            });
        }
        Ok(())
    }

    async fn status(&self, uuid: &str) -> Result<Option<GuestState>, DriverError> {
        self.driver.status(uuid).await
    }

    /// Acts on the host and sets `r`'s state, reason and bookkeeping.
    async fn converge(&self, r: &mut Record, after_restart: bool) {
        let guest = match self.status(&r.uuid).await {
            Ok(g) => g,
            Err(e) => return self.failed(r, "read the state of", &e),
        };
        if r.desired == Desired::Deleted {
            if guest.is_some()
                && let Err(e) = self.driver.destroy(&r.uuid).await
            {
                return self.failed(r, "destroy", &e);
            }
            self.images.release(&r.uuid);
            r.state = InstanceState::Deleted;
            r.reason = None;
            r.pending_reboot = None;
            return;
        }
        let Some(spec) = r.spec.clone() else {
            r.state = InstanceState::Error;
            r.reason = Some("the ledger holds no spec for it".into());
            return;
        };
        // A build that failed stays failed until a newer command.
        if r.state == InstanceState::Error && guest.is_none() {
            return;
        }
        // A paused guest is a started one with its CPUs halted.
        let run = r.desired != Desired::Stopped;
        let key = spec.build_key();
        let built = r.built_image.as_deref() == Some(key.as_str());
        let note = match guest {
            Some(g) if built => match self.power(r, g, run, after_restart).await {
                Some(note) => note,
                None => return,
            },
            _ => {
                if guest.is_none() && r.built_image.is_some() {
                    tracing::warn!(instance = %r.uuid, "its guest vanished from the hypervisor; building it again");
                }
                // A guest plugs into its networks' bridges: built before
                // the network plan made them, libvirt refuses it. It waits
                // (building) for the plan; later passes try again.
                let bridges: Vec<String> =
                    spec.ports.iter().filter_map(|p| p.bridge.clone()).collect();
                let missing = self.network.missing_bridges(bridges).await;
                if !missing.is_empty() {
                    r.state = InstanceState::Building;
                    r.reason = Some(format!(
                        "{WAITING_FOR_NETWORK}: no bridge {}",
                        missing.join(", ")
                    ));
                    return;
                }
                let image = match self.image_for(&spec).await {
                    Ok(i) => i,
                    Err(why) => return error(r, why),
                };
                let made = if guest.is_none() {
                    self.driver.spawn(&spec, &image, run).await
                } else {
                    self.driver.rebuild(&spec, &image, run).await
                };
                if let Err(e) = made {
                    return error(r, virga_common::error::chain(&e));
                }
                r.built_image = Some(key);
                if r.desired == Desired::Paused
                    && let Err(e) = self.driver.pause(&r.uuid).await
                {
                    self.failed(r, "pause", &e);
                }
                r.pending_reboot = None;
                None
            }
        };
        match self.status(&r.uuid).await {
            Ok(g) => {
                let now = observed(g);
                // A note says why the latest change happened and stays until
                // the next one; a failure ("cannot …") clears once a pass succeeds.
                let keep = now == r.state && r.reason.as_deref().is_some_and(|w| !is_failure(w));
                if note.is_some() || !keep {
                    r.reason = note;
                }
                r.state = now;
            }
            Err(e) => self.failed(r, "read the state of", &e),
        }
    }

    /// Brings a built guest to the desired power state (and does a pending
    /// reboot). `None` when `r` is settled already; else a note for its
    /// reason.
    async fn power(
        &self,
        r: &mut Record,
        g: GuestState,
        run: bool,
        after_restart: bool,
    ) -> Option<Option<String>> {
        let seen_running = r.state == InstanceState::Running;
        let pause = r.desired == Desired::Paused;
        let acted = match (run, g) {
            (true, GuestState::Running | GuestState::Paused) if r.pending_reboot.is_some() => {
                let hard = r.pending_reboot == Some(RebootKind::Hard);
                self.driver.reboot(&r.uuid, hard, self.stop_timeout).await
            }
            (true, GuestState::Running) if pause => self.driver.pause(&r.uuid).await,
            (true, GuestState::Paused) if !pause => self.driver.unpause(&r.uuid).await,
            (true, GuestState::Stopped)
                if seen_running && !after_restart && r.pending_reboot.is_none() =>
            {
                // Shut down from inside: the guest's owner meant it.
                r.desired = Desired::Stopped;
                r.state = InstanceState::Stopped;
                r.reason = Some("shut down from inside the guest".into());
                r.pending_reboot = None;
                return None;
            }
            (true, GuestState::Stopped | GuestState::Crashed) => {
                if g == GuestState::Crashed {
                    tracing::warn!(instance = %r.uuid, "guest crashed; starting it again");
                }
                match self.driver.start(&r.uuid).await {
                    Ok(()) if pause => self.driver.pause(&r.uuid).await,
                    other => other,
                }
            }
            (false, GuestState::Running | GuestState::Paused) => {
                self.driver.stop(&r.uuid, self.stop_timeout).await
            }
            _ => Ok(()),
        };
        if let Err(e) = acted {
            self.failed(r, "change the power state of", &e);
            return None;
        }
        r.pending_reboot = None;
        Some(match (run, g) {
            (true, GuestState::Crashed) => Some("started again after it crashed".to_owned()),
            (true, GuestState::Stopped) if after_restart => {
                Some("started again after the node or its agent restarted".to_owned())
            }
            _ => None,
        })
    }

    /// Checks what the host itself must satisfy, and finds the image.
    async fn image_for(&self, spec: &InstanceSpec) -> Result<BootImage, String> {
        if let Some(arch) = &spec.image.arch
            && arch != &self.host_arch
        {
            return Err(format!(
                "image {} is for {arch}, this node is {}",
                spec.image.id, self.host_arch
            ));
        }
        self.images.boot_image(&spec.uuid, &spec.image).await
    }

    /// An operation failed on an instance that exists: keep what it is,
    /// say why, and let a later pass retry.
    fn failed(&self, r: &mut Record, what: &str, e: &DriverError) {
        let why = virga_common::error::chain(e);
        tracing::warn!(instance = %r.uuid, error = %why, "cannot {what} the instance");
        r.reason = Some(format!("cannot {what} it: {why}"));
    }
}

/// Whether a reason is a failure of the last pass (see [`Reconciler::failed`]).
pub fn is_failure(reason: &str) -> bool {
    reason.starts_with("cannot ")
}

/// The host cannot build it as asked.
fn error(r: &mut Record, why: String) {
    r.state = InstanceState::Error;
    r.reason = Some(why);
}
