//! QCOW2 (versions 2 and 3, qemu's docs/interop/qcow2.txt): refuse any
//! header that makes QEMU open another file — a backing file, an external
//! data file — or that uses features we cannot vouch for.

use super::FormatError;
use super::read::{be32, be64};

/// Incompatible feature bits (header bytes 72..80, version 3).
const DIRTY: u64 = 1 << 0;
const CORRUPT: u64 = 1 << 1;
const EXTERNAL_DATA_FILE: u64 = 1 << 2;
const COMPRESSION_TYPE: u64 = 1 << 3;
const EXTENDED_L2: u64 = 1 << 4;
const KNOWN: u64 = DIRTY | CORRUPT | EXTERNAL_DATA_FILE | COMPRESSION_TYPE | EXTENDED_L2;

/// Header extension naming the external data file.
const EXT_DATA_FILE: u32 = 0x4441_5441;
const EXT_END: u32 = 0;

fn unsafe_(why: impl Into<String>) -> FormatError {
    FormatError::Unsafe {
        format: "qcow2",
        why: why.into(),
    }
}

fn malformed(why: &str) -> FormatError {
    FormatError::Malformed {
        declared: "qcow2".into(),
        why: why.into(),
    }
}

/// Checks a QCOW2 header; the virtual size on success.
pub fn check(head: &[u8]) -> Result<u64, FormatError> {
    let short = || malformed("header truncated");
    let version = be32(head, 4).ok_or_else(short)?;
    if version != 2 && version != 3 {
        return Err(malformed(&format!("version {version}")));
    }
    if be64(head, 8).ok_or_else(short)? != 0 {
        return Err(unsafe_("it names a backing file"));
    }
    let cluster_bits = be32(head, 20).ok_or_else(short)?;
    if !(9..=21).contains(&cluster_bits) {
        return Err(malformed(&format!("cluster_bits {cluster_bits}")));
    }
    let virtual_size = be64(head, 24).ok_or_else(short)?;
    let extensions_at = if version == 2 {
        72
    } else {
        let incompatible = be64(head, 72).ok_or_else(short)?;
        if incompatible & EXTERNAL_DATA_FILE != 0 {
            return Err(unsafe_("it uses an external data file"));
        }
        if incompatible & CORRUPT != 0 {
            return Err(unsafe_("it is marked corrupt"));
        }
        if incompatible & !KNOWN != 0 {
            return Err(unsafe_(format!(
                "unknown incompatible features {:#x}",
                incompatible & !KNOWN
            )));
        }
        let header_length = be32(head, 100).ok_or_else(short)?;
        if header_length < 104 || header_length % 8 != 0 {
            return Err(malformed(&format!("header_length {header_length}")));
        }
        header_length as usize
    };
    let cluster = 1usize << cluster_bits;
    let mut at = extensions_at;
    loop {
        if at + 8 > cluster.min(head.len()) {
            return Err(unsafe_(
                "its header extensions run past the first cluster or the inspected bytes",
            ));
        }
        let kind = be32(head, at).ok_or_else(short)?;
        let len = be32(head, at + 4).ok_or_else(short)? as usize;
        if kind == EXT_END {
            break;
        }
        if kind == EXT_DATA_FILE {
            return Err(unsafe_("it names an external data file"));
        }
        at += 8 + len.next_multiple_of(8);
    }
    Ok(virtual_size)
}
