//! The node as the scheduler models it: discovery's facts and the agent's
//! configuration turned into a [`NodeCall::Register`].
//!
//! - Inventories: `VCPU` (logical CPUs, over-committed by
//!   `agent.cpu_allocation_ratio`), `MEMORY_MB` and `DISK_GB` (with the
//!   host's reservations); a class the host has none of is left out.
//! - Traits: the CPU's flags as os-traits names them (`avx2` →
//!   `HW_CPU_X86_AVX2`, `asimd` → `HW_CPU_AARCH64_ASIMD`), `COMPUTE_NODE`,
//!   and what the driver can do; only standard traits, since the scheduler
//!   refuses unknown ones.
//! - Devices: each accelerator, by PCI address: a GPU offers one `PGPU`,
//!   an FPGA one `FPGA`, another accelerator one `PCI_DEVICE`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use virga_common::config::AgentConfig;
use virga_protocol::scheduler::{
    DeviceReport, HostFacts, InventoryReport, NodeCall, SiteRef, standard_traits,
};

use crate::discovery::{AcceleratorKind, Host};
use crate::driver::Capabilities;

fn inventory(total: i64, reserved: i64, ratio: f64) -> InventoryReport {
    InventoryReport {
        total,
        reserved: reserved.min(total),
        min_unit: 1,
        max_unit: total,
        step_size: 1,
        allocation_ratio: ratio,
    }
}

/// x86 flags whose os-traits name is not the kernel's name upper-cased.
const X86_ALIASES: [(&str, &str); 9] = [
    ("aes", "AESNI"),
    ("pni", "SSE3"),
    ("sse4_1", "SSE41"),
    ("sse4_2", "SSE42"),
    ("pclmulqdq", "CLMUL"),
    ("fma", "FMA3"),
    ("sha_ni", "SHA"),
    ("pdpe1gb", "PDPE1GB"),
    ("rtm", "TSX"),
];

/// The CPU flags' standard traits.
pub fn cpu_traits(host: &Host) -> BTreeSet<String> {
    let (prefix, aliases): (&str, &[(&str, &str)]) = match host.arch.as_str() {
        "aarch64" => ("HW_CPU_AARCH64_", &[]),
        _ => ("HW_CPU_X86_", &X86_ALIASES),
    };
    let standard: BTreeSet<&str> = standard_traits().collect();
    host.cpu
        .flags
        .iter()
        .map(|f| {
            let name = aliases
                .iter()
                .find(|(k, _)| k == f)
                .map_or_else(|| f.to_uppercase(), |(_, v)| (*v).to_owned());
            format!("{prefix}{name}")
        })
        .filter(|t| standard.contains(t.as_str()))
        .collect()
}

/// What discovery found that inventories do not say.
pub fn facts(host: &Host, driver: &str, caps: &Capabilities) -> HostFacts {
    HostFacts {
        cpu_model: host.cpu.model.clone(),
        cpu_sockets: host.cpu.sockets,
        numa: host
            .numa
            .iter()
            .map(|n| json!({"id": n.id, "cpus": n.cpus, "memory_mb": n.memory_mb}))
            .collect(),
        accelerators: host
            .accelerators
            .iter()
            .map(|a| {
                json!({"address": a.address, "kind": format!("{:?}", a.kind).to_lowercase(),
                       "vendor": a.vendor, "device": a.device, "numa_node": a.numa_node})
            })
            .collect(),
        interfaces: host
            .interfaces
            .iter()
            .map(|i| {
                let addresses: Vec<String> = i
                    .addresses
                    .iter()
                    .map(|(a, p)| format!("{a}/{p}"))
                    .collect();
                json!({"name": i.name, "mac": i.mac, "mtu": i.mtu, "state": i.state,
                       "addresses": addresses})
            })
            .collect(),
        driver: driver.to_owned(),
        domain_types: caps.domain_types.clone(),
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// The registration of `node` (its uuid), with what the hypervisor
/// `driver` offers (`caps`: image types it boots, domain types).
pub fn register(
    node: &str,
    host: &Host,
    config: &AgentConfig,
    region: &str,
    driver: &str,
    caps: &Capabilities,
) -> NodeCall {
    let mut inventories = BTreeMap::new();
    let mut put = |class: &str, inv: InventoryReport| {
        if inv.total > 0 {
            inventories.insert(class.to_owned(), inv);
        }
    };
    put(
        "VCPU",
        inventory(host.cpu.count.into(), 0, config.cpu_allocation_ratio),
    );
    put(
        "MEMORY_MB",
        inventory(host.memory_mb as i64, config.reserved_memory_mb, 1.0),
    );
    put(
        "DISK_GB",
        inventory(host.disk_gb as i64, config.reserved_disk_gb, 1.0),
    );
    let mut traits = cpu_traits(host);
    traits.insert("COMPUTE_NODE".into());
    traits.extend(caps.traits.iter().cloned());
    let devices = host
        .accelerators
        .iter()
        .map(|a| {
            let class = match a.kind {
                AcceleratorKind::Gpu => "PGPU",
                AcceleratorKind::Fpga => "FPGA",
                AcceleratorKind::Other => "PCI_DEVICE",
            };
            DeviceReport {
                name: a.address.clone(),
                inventories: BTreeMap::from([(class.to_owned(), inventory(1, 0, 1.0))]),
                traits: BTreeSet::new(),
            }
        })
        .collect();
    NodeCall::Register {
        node: node.to_owned(),
        site: SiteRef {
            name: config.site.clone(),
            kind: config.kind.clone(),
            region: config.region.clone().unwrap_or_else(|| region.to_owned()),
        },
        hostname: config
            .hostname
            .clone()
            .unwrap_or_else(|| host.hostname.clone()),
        kind: config.kind.clone(),
        arch: host.arch.clone(),
        labels: config.labels.clone(),
        inventories,
        traits,
        devices,
        facts: Some(Box::new(facts(host, driver, caps))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::{Accelerator, Cpu};

    fn host() -> Host {
        Host {
            hostname: "edge-1".into(),
            arch: "x86_64".into(),
            cpu: Cpu {
                arch: "x86_64".into(),
                model: "m".into(),
                count: 8,
                sockets: 1,
                flags: ["avx2", "aes", "made_up_flag", "sse4_2"]
                    .map(String::from)
                    .into(),
            },
            memory_mb: 16000,
            disk_gb: 0,
            numa: vec![],
            accelerators: vec![Accelerator {
                address: "0000:3b:00.0".into(),
                kind: AcceleratorKind::Gpu,
                vendor: "10de".into(),
                device: "20b5".into(),
                numa_node: Some(0),
            }],
            interfaces: vec![],
        }
    }

    #[test]
    fn inventories_traits_and_devices() {
        let cfg = AgentConfig {
            site: "paris-1".into(),
            kind: "mec".into(),
            ..AgentConfig::default()
        };
        let drv = Capabilities {
            traits: BTreeSet::from(["COMPUTE_IMAGE_TYPE_QCOW2".to_string()]),
            domain_types: vec!["qemu".into()],
        };
        let NodeCall::Register {
            site,
            inventories,
            traits,
            devices,
            arch,
            facts,
            ..
        } = register("u", &host(), &cfg, "RegionOne", "libvirt", &drv)
        else {
            panic!("a registration");
        };
        assert_eq!(
            (site.name.as_str(), site.region.as_str()),
            ("paris-1", "RegionOne")
        );
        assert_eq!(arch, "x86_64");
        assert_eq!(inventories["VCPU"].total, 8);
        assert_eq!(inventories["VCPU"].allocation_ratio, 4.0);
        assert_eq!(inventories["MEMORY_MB"].reserved, 512);
        assert!(
            !inventories.contains_key("DISK_GB"),
            "no disk, no inventory"
        );
        // The kernel's aes and sse4_2 are os-traits' AESNI and SSE42; a
        // flag with no standard name is left out.
        let want: BTreeSet<String> = [
            "COMPUTE_IMAGE_TYPE_QCOW2",
            "COMPUTE_NODE",
            "HW_CPU_X86_AESNI",
            "HW_CPU_X86_AVX2",
            "HW_CPU_X86_SSE42",
        ]
        .map(String::from)
        .into();
        assert_eq!(traits, want);
        assert_eq!(devices.len(), 1);
        assert_eq!(devices[0].inventories["PGPU"].total, 1);
        let facts = facts.unwrap();
        assert_eq!(
            (facts.driver.as_str(), facts.domain_types.as_slice()),
            ("libvirt", &["qemu".to_string()][..])
        );
        assert_eq!(facts.accelerators[0]["kind"], "gpu");
    }
}
