//! Accelerators on the PCI bus, by class and vendor from
//! `/sys/bus/pci/devices/*/`: GPUs (display controllers from GPU makers),
//! FPGAs (FPGA makers' devices) and other processing accelerators (AI
//! chips, PCI class 0x12). Emulated and BMC display adapters (QEMU's,
//! ASPEED's, Matrox's) are not GPUs anyone would schedule.

use std::path::Path;

use super::{Roots, attr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceleratorKind {
    Gpu,
    Fpga,
    /// Any other processing accelerator (an AI / inference chip).
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Accelerator {
    /// The PCI address, `0000:3b:00.0`: stable across restarts.
    pub address: String,
    pub kind: AcceleratorKind,
    /// PCI vendor and device ids, four lower-case hex digits each.
    pub vendor: String,
    pub device: String,
    /// The NUMA node it hangs off, when the kernel knows.
    pub numa_node: Option<u32>,
}

/// Vendors whose display controllers are real GPUs: NVIDIA, AMD/ATI, Intel.
const GPU_VENDORS: [&str; 3] = ["10de", "1002", "8086"];
/// FPGA makers: Xilinx (AMD), Altera (Intel), Lattice, Achronix.
const FPGA_VENDORS: [&str; 4] = ["10ee", "1172", "1204", "12ba"];

fn hex(path: &Path) -> Option<String> {
    attr(path).map(|v| v.trim_start_matches("0x").to_lowercase())
}

fn kind(class: &str, vendor: &str) -> Option<AcceleratorKind> {
    let base = class.get(..2)?;
    if FPGA_VENDORS.contains(&vendor) && matches!(base, "12" | "11" | "ff" | "05" | "08") {
        return Some(AcceleratorKind::Fpga);
    }
    match base {
        // 0x03: display controllers (VGA 0x0300, 3D 0x0302).
        "03" if GPU_VENDORS.contains(&vendor) => Some(AcceleratorKind::Gpu),
        // 0x12: processing accelerators.
        "12" => Some(AcceleratorKind::Other),
        _ => None,
    }
}

pub(super) fn accelerators(roots: &Roots) -> Vec<Accelerator> {
    let Ok(entries) = std::fs::read_dir(roots.sys.join("bus/pci/devices")) else {
        return Vec::new();
    };
    let mut found: Vec<Accelerator> = entries
        .flatten()
        .filter_map(|e| {
            let dir = e.path();
            let class = hex(&dir.join("class"))?;
            let vendor = hex(&dir.join("vendor"))?;
            let kind = kind(&class, &vendor)?;
            Some(Accelerator {
                address: e.file_name().to_string_lossy().into_owned(),
                kind,
                device: hex(&dir.join("device")).unwrap_or_default(),
                vendor,
                // -1 when the platform does not say.
                numa_node: attr(&dir.join("numa_node")).and_then(|n| n.parse().ok()),
            })
        })
        .collect();
    found.sort_by(|a, b| a.address.cmp(&b.address));
    found
}
