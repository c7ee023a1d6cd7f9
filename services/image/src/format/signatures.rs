//! Recognising formats by their magic bytes, and reading the virtual size
//! of the simple ones (VHD, VDI, ISO).

use super::Format;
use super::read::{be64, le16, le32, le64};

/// Where an ISO 9660 primary volume descriptor (or a UDF volume recognition
/// sequence) starts: sector 16 of 2048-byte sectors.
const ISO_DESCRIPTOR: usize = 16 * 2048;

/// Every format whose signature is in `head`.
pub fn detect(head: &[u8]) -> Vec<Format> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    let mut found = Vec::new();
    if at(0, b"QFI\xfb") {
        found.push(Format::Qcow2);
    }
    if at(0, b"QED\0") {
        found.push(Format::Qed);
    }
    // Sparse extents start with "KDMV"; a descriptor-only VMDK is text.
    if at(0, b"KDMV") || at(0, b"# Disk DescriptorFile") {
        found.push(Format::Vmdk);
    }
    if at(0, b"conectix") {
        found.push(Format::Vhd);
    }
    if at(0, b"vhdxfile") {
        found.push(Format::Vhdx);
    }
    if le32(head, 0x40) == Some(0xbeda_107f) {
        found.push(Format::Vdi);
    }
    if at(0, b"LUKS\xba\xbe") {
        found.push(Format::Luks);
    }
    let iso = [&b"CD001"[..], b"BEA01", b"NSR02", b"NSR03"];
    if iso.iter().any(|m| at(ISO_DESCRIPTOR + 1, m)) {
        found.push(Format::Iso);
    }
    found
}

/// A dynamic VHD's copy of its footer: "current size" at byte 48.
pub fn vhd_size(head: &[u8]) -> Option<u64> {
    be64(head, 48)
}

/// VDI's header (v1.1) keeps the disk size at 0x170.
pub fn vdi_size(head: &[u8]) -> Option<u64> {
    le64(head, 0x170)
}

/// ISO 9660: the volume space size (blocks, both-endian, little first)
/// times the logical block size. UDF-only discs have no such field.
pub fn iso_size(head: &[u8]) -> Option<u64> {
    if head.get(ISO_DESCRIPTOR + 1..ISO_DESCRIPTOR + 6) != Some(b"CD001") {
        return None;
    }
    let blocks = le32(head, ISO_DESCRIPTOR + 80)?;
    let block = le16(head, ISO_DESCRIPTOR + 128)?;
    Some(u64::from(blocks) * u64::from(block))
}
