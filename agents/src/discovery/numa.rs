//! NUMA nodes: which CPUs and how much memory each has, from
//! `/sys/devices/system/node/node*/`. A host without that directory (no
//! NUMA support) counts as one node holding everything.

use super::memory::kib_field;
use super::{DiscoveryError, Roots, attr, cpu_list};

#[derive(Debug, Clone, PartialEq)]
pub struct NumaNode {
    pub id: u32,
    pub cpus: Vec<u32>,
    pub memory_mb: u64,
}

pub(super) fn read(roots: &Roots) -> Result<Vec<NumaNode>, DiscoveryError> {
    let dir = roots.sys.join("devices/system/node");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut nodes = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(id) = name
            .strip_prefix("node")
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let cpus = attr(&e.path().join("cpulist"))
            .map(|s| cpu_list(&s))
            .unwrap_or_default();
        let memory_mb = std::fs::read_to_string(e.path().join("meminfo"))
            .ok()
            .and_then(|t| kib_field(&t, "MemTotal"))
            .unwrap_or(0)
            / 1024;
        nodes.push(NumaNode {
            id,
            cpus,
            memory_mb,
        });
    }
    nodes.sort_by_key(|n| n.id);
    Ok(nodes)
}
