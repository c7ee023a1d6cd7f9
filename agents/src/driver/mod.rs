//! The hypervisor driver trait: one interface for every way a node runs
//! instances (libvirt VMs; containerd containers and Redfish bare metal
//! later), as Nova's `virt/driver.py` is.
//!
//! Drivers are idempotent where the agent needs it: destroying a guest
//! that is gone, or starting one that runs, succeeds. A driver knows
//! nothing of generations or the ledger; the agent decides what to ask.

#[cfg(feature = "libvirt")]
pub mod libvirt;
pub mod simulated;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use virga_protocol::agent::{InstanceSpec, PortSpec};

/// What a guest is, as the hypervisor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestState {
    Running,
    /// Defined and not running: shut down, or never started.
    Stopped,
    Paused,
    /// Stopped without being asked (a guest or emulator crash).
    Crashed,
}

/// One guest the driver knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    /// The instance uuid it was created for.
    pub id: String,
    pub state: GuestState,
}

/// The disk image an instance boots from, held in the node's image cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootImage {
    pub path: PathBuf,
    /// `qcow2`, `raw` or `iso`.
    pub format: String,
}

/// Counters of one guest (cumulative since it started).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub cpu_time_ns: u64,
    pub memory_kb: u64,
    pub disk_read_bytes: u64,
    pub disk_write_bytes: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
}

/// What the driver offers the scheduler.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Standard traits (`COMPUTE_IMAGE_TYPE_QCOW2`, ...).
    pub traits: BTreeSet<String>,
    /// Hypervisor domain types it can run (`kvm`, `qemu`).
    pub domain_types: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("no guest {0} on this node")]
    NotFound(String),
    /// The request cannot be met on this host (too much memory, another
    /// architecture, a format it cannot boot): a failure report, not a retry.
    #[error("{0}")]
    Refused(String),
    #[error("{0} is not supported by this driver")]
    Unsupported(&'static str),
    #[error("{op} of {id} failed")]
    Failed {
        op: &'static str,
        id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Runs instances on this node.
#[async_trait]
pub trait Driver: Send + Sync + 'static {
    /// `libvirt`, `simulated`, ...
    fn name(&self) -> &'static str;

    async fn capabilities(&self) -> Result<Capabilities, DriverError>;

    /// Every guest the hypervisor has, the agent's and any others.
    async fn list(&self) -> Result<Vec<Guest>, DriverError>;

    /// One guest's state, `None` when it does not exist.
    async fn status(&self, id: &str) -> Result<Option<GuestState>, DriverError>;

    /// Creates the guest (its disk from `image`, its console log) and
    /// starts it when `start`. Spawning a guest that exists is an error.
    async fn spawn(
        &self,
        spec: &InstanceSpec,
        image: &BootImage,
        start: bool,
    ) -> Result<(), DriverError>;

    async fn start(&self, id: &str) -> Result<(), DriverError>;

    /// Asks the guest to shut down, and forces it off after `timeout`.
    async fn stop(&self, id: &str, timeout: Duration) -> Result<(), DriverError>;

    /// Soft: asks the guest, falls back to hard after `timeout`.
    async fn reboot(&self, id: &str, hard: bool, timeout: Duration) -> Result<(), DriverError>;

    /// Forces the guest off and removes it with its local disks and logs.
    /// A guest that does not exist is already destroyed.
    async fn destroy(&self, id: &str) -> Result<(), DriverError>;

    /// Replaces the root disk with a fresh one from `image`, keeping the
    /// guest's identity (the instance upgrade), and starts it when `start`.
    async fn rebuild(
        &self,
        spec: &InstanceSpec,
        image: &BootImage,
        start: bool,
    ) -> Result<(), DriverError>;

    /// Up to `max_bytes` from the end of the serial console log.
    async fn console_log(&self, id: &str, max_bytes: u64) -> Result<String, DriverError>;

    /// Halts a running guest's CPUs, keeping its memory.
    async fn pause(&self, id: &str) -> Result<(), DriverError> {
        let _ = id;
        Err(DriverError::Unsupported("pausing"))
    }

    /// Lets a paused guest run again.
    async fn unpause(&self, id: &str) -> Result<(), DriverError> {
        let _ = id;
        Err(DriverError::Unsupported("unpausing"))
    }

    /// Sends a running (or paused) guest a non-maskable interrupt, which
    /// a guest kernel set up for it answers with a crash dump.
    async fn inject_nmi(&self, id: &str) -> Result<(), DriverError> {
        let _ = id;
        Err(DriverError::Unsupported("injecting an NMI"))
    }

    async fn stats(&self, id: &str) -> Result<Stats, DriverError>;

    /// Writes the stopped guest's root disk to `target` as one standalone
    /// file of `format` (its image folded in), so another node can build
    /// the guest from it (a resize or a migration). A running guest is
    /// refused: its disk is still changing.
    async fn export_disk(&self, id: &str, target: &Path, format: &str) -> Result<(), DriverError> {
        let _ = (id, target, format);
        Err(DriverError::Unsupported("exporting disks"))
    }

    async fn attach_port(&self, id: &str, port: &PortSpec) -> Result<(), DriverError> {
        let _ = (id, port);
        Err(DriverError::Unsupported("attaching ports"))
    }

    async fn detach_port(&self, id: &str, port: &str) -> Result<(), DriverError> {
        let _ = (id, port);
        Err(DriverError::Unsupported("detaching ports"))
    }
}

/// The image types every VM driver boots, as standard traits.
pub fn vm_image_traits() -> BTreeSet<String> {
    [
        "COMPUTE_IMAGE_TYPE_QCOW2",
        "COMPUTE_IMAGE_TYPE_RAW",
        "COMPUTE_IMAGE_TYPE_ISO",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// The last `max_bytes` of `text`, cut at a character boundary.
pub fn tail(text: &str, max_bytes: u64) -> String {
    let max = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}
