//! The host's memory, from `/proc/meminfo`.

use super::{DiscoveryError, Roots, read};

/// `MemTotal` in MiB.
pub(super) fn total_mb(roots: &Roots) -> Result<u64, DiscoveryError> {
    let path = roots.proc.join("meminfo");
    kib_field(&read(&path)?, "MemTotal")
        .map(|kib| kib / 1024)
        .ok_or(DiscoveryError::Missing {
            path,
            what: "MemTotal",
        })
}

/// A `Name:   1234 kB` line's number, in KiB.
pub(super) fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if !k.trim().ends_with(name) {
            return None;
        }
        v.split_whitespace().next()?.parse().ok()
    })
}
