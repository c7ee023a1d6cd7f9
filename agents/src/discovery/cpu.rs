//! The CPU: architecture, model, how many logical CPUs are online, and
//! the feature flags (which become standard `HW_CPU_*` traits).

use std::collections::BTreeSet;

use super::{DiscoveryError, Roots, attr, cpu_list, read as read_file};

#[derive(Debug, Clone, PartialEq)]
pub struct Cpu {
    /// `x86_64` or `aarch64`.
    pub arch: String,
    pub model: String,
    /// Logical CPUs online.
    pub count: u32,
    /// Physical packages.
    pub sockets: u32,
    /// Feature flags as the kernel names them (`avx2`, `aes`, `asimd`).
    pub flags: BTreeSet<String>,
}

/// aarch64 implementer codes of common server and gateway CPUs.
fn implementer(code: &str) -> Option<&'static str> {
    Some(match code {
        "0x41" => "ARM",
        "0x42" => "Broadcom",
        "0x43" => "Cavium",
        "0x48" => "HiSilicon",
        "0x4e" => "NVIDIA",
        "0x50" => "Ampere (APM)",
        "0x51" => "Qualcomm",
        "0x61" => "Apple",
        "0xc0" => "Ampere",
        _ => return None,
    })
}

pub(super) fn read(roots: &Roots) -> Result<Cpu, DiscoveryError> {
    let path = roots.proc.join("cpuinfo");
    let text = read_file(&path)?;
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_owned())
        })
    };
    let processors = text
        .lines()
        .filter(|l| l.split(':').next().map(str::trim) == Some("processor"))
        .count() as u32;
    // x86 lists `flags` and `vendor_id`; arm64 `Features` and `CPU implementer`.
    let (arch, model, flags) = if let Some(flags) = field("flags") {
        let model = field("model name").unwrap_or_else(|| "unknown x86_64".into());
        ("x86_64", model, flags)
    } else if let Some(features) = field("Features") {
        let vendor = field("CPU implementer")
            .and_then(|c| implementer(&c.to_lowercase()))
            .unwrap_or("unknown");
        let part = field("CPU part").unwrap_or_default();
        let model = field("model name").unwrap_or_else(|| format!("{vendor} {part}"));
        ("aarch64", model.trim().to_owned(), features)
    } else {
        return Err(DiscoveryError::Missing {
            path,
            what: "the CPU's flags or features",
        });
    };
    let online = attr(&roots.sys.join("devices/system/cpu/online"))
        .map(|s| cpu_list(&s).len() as u32)
        .filter(|n| *n > 0);
    let count = online.unwrap_or(processors).max(1);
    let mut packages = BTreeSet::new();
    for n in 0..count {
        if let Some(id) = attr(&roots.sys.join(format!(
            "devices/system/cpu/cpu{n}/topology/physical_package_id"
        ))) {
            packages.insert(id);
        }
    }
    Ok(Cpu {
        arch: arch.into(),
        model,
        count,
        sockets: packages.len().max(1) as u32,
        flags: flags.split_whitespace().map(str::to_owned).collect(),
    })
}
