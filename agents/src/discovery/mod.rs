//! What this host has: CPU, memory, NUMA, disk under the instance path,
//! PCI accelerators and network interfaces, read from procfs and sysfs.
//!
//! Everything is read below two roots (`agent.procfs_root`,
//! `agent.sysfs_root`), so tests describe a host as a directory tree.
//! Only the addresses of network interfaces and the size of the instance
//! path's file system come from system calls, since no file holds them.

mod cpu;
mod memory;
mod net;
mod numa;
mod pci;

use std::path::{Path, PathBuf};

pub use cpu::Cpu;
pub use net::Interface;
pub use numa::NumaNode;
pub use pci::{Accelerator, AcceleratorKind};

/// Where procfs and sysfs are mounted (or a fake host's trees).
#[derive(Debug, Clone)]
pub struct Roots {
    pub proc: PathBuf,
    pub sys: PathBuf,
}

impl Default for Roots {
    fn default() -> Self {
        Roots {
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
        }
    }
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    pub hostname: String,
    /// `x86_64` or `aarch64`.
    pub arch: String,
    pub cpu: Cpu,
    pub memory_mb: u64,
    /// The size of the file system holding the instance path.
    pub disk_gb: u64,
    pub numa: Vec<NumaNode>,
    pub accelerators: Vec<Accelerator>,
    pub interfaces: Vec<Interface>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} does not say {what}")]
    Missing { path: PathBuf, what: &'static str },
    #[error("cannot measure the file system of {path}")]
    Statvfs {
        path: PathBuf,
        #[source]
        source: nix::Error,
    },
    #[error("cannot list network interfaces")]
    Interfaces(#[source] nix::Error),
}

/// Reads a file that must exist.
pub(crate) fn read(path: &Path) -> Result<String, DiscoveryError> {
    std::fs::read_to_string(path).map_err(|source| DiscoveryError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads a small sysfs attribute that may be absent, trimmed.
pub(crate) fn attr(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// Discovers the host. `instance_path` must exist (the agent creates it).
pub fn discover(roots: &Roots, instance_path: &Path) -> Result<Host, DiscoveryError> {
    let hostname = attr(&roots.proc.join("sys/kernel/hostname"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let cpu = cpu::read(roots)?;
    Ok(Host {
        hostname,
        arch: cpu.arch.clone(),
        memory_mb: memory::total_mb(roots)?,
        disk_gb: disk_gb(instance_path)?,
        numa: numa::read(roots)?,
        accelerators: pci::accelerators(roots),
        interfaces: net::interfaces(roots)?,
        cpu,
    })
}

/// The size (GiB, rounded down) of the file system holding `path`.
pub fn disk_gb(path: &Path) -> Result<u64, DiscoveryError> {
    let st = nix::sys::statvfs::statvfs(path).map_err(|source| DiscoveryError::Statvfs {
        path: path.to_owned(),
        source,
    })?;
    Ok(st.blocks() as u64 * st.fragment_size() as u64 / (1 << 30))
}

/// Parses a kernel CPU list such as `0-3,8,10-11` into CPU numbers.
pub(crate) fn cpu_list(s: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.trim().parse::<u32>().ok()),
        }
    }
    out
}

#[cfg(test)]
mod tests;
