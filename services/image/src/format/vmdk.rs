//! VMDK: only single-file sparse disks (`monolithicSparse`,
//! `streamOptimized`) are accepted. Every other create type, and any extent
//! that is not the file's own sparse data, names other files on the host.

use super::FormatError;
use super::read::{le32, le64};

const SECTOR: u64 = 512;
const ALLOWED: [&str; 2] = ["monolithicSparse", "streamOptimized"];

fn unsafe_(why: impl Into<String>) -> FormatError {
    FormatError::Unsafe {
        format: "vmdk",
        why: why.into(),
    }
}

/// Checks a sparse VMDK header and its embedded descriptor; the virtual
/// size on success.
pub fn check(head: &[u8]) -> Result<u64, FormatError> {
    if head.get(0..4) != Some(b"KDMV") {
        return Err(unsafe_(
            "a descriptor-only VMDK references its data in other files",
        ));
    }
    let short = || FormatError::Malformed {
        declared: "vmdk".into(),
        why: "sparse header truncated".into(),
    };
    let version = le32(head, 4).ok_or_else(short)?;
    if !(1..=3).contains(&version) {
        return Err(unsafe_(format!("unknown version {version}")));
    }
    let capacity = le64(head, 12).ok_or_else(short)?;
    let offset = le64(head, 28).ok_or_else(short)?;
    let len = le64(head, 36).ok_or_else(short)?;
    let range = offset
        .checked_mul(SECTOR)
        .zip(len.checked_mul(SECTOR))
        .and_then(|(a, n)| Some((usize::try_from(a).ok()?, usize::try_from(n).ok()?)))
        .filter(|(_, n)| *n > 0)
        .and_then(|(a, n)| head.get(a..a.checked_add(n)?));
    let Some(raw) = range else {
        return Err(unsafe_(
            "its embedded descriptor is missing or beyond the inspected bytes",
        ));
    };
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end_matches('\0');
    descriptor(text)?;
    capacity
        .checked_mul(SECTOR)
        .ok_or_else(|| unsafe_("its capacity overflows"))
}

/// The embedded descriptor: an allowed `createType` and exactly one extent,
/// a `SPARSE` one (the file itself).
fn descriptor(text: &str) -> Result<(), FormatError> {
    let mut create_type = None;
    let mut extents = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("createType") {
            let v = v.trim_start().trim_start_matches('=').trim();
            create_type = Some(v.trim_matches('"').to_owned());
        } else if ["RW ", "RDONLY ", "NOACCESS "]
            .iter()
            .any(|p| line.starts_with(p))
        {
            extents.push(line.split_whitespace().nth(2).unwrap_or("").to_owned());
        }
    }
    match create_type.as_deref() {
        Some(t) if ALLOWED.contains(&t) => {}
        Some(t) => return Err(unsafe_(format!("create type {t:?} references other files"))),
        None => return Err(unsafe_("its descriptor has no createType")),
    }
    match extents.as_slice() {
        [kind] if kind == "SPARSE" => Ok(()),
        [kind] => Err(unsafe_(format!("its extent is {kind}, not SPARSE"))),
        _ => Err(unsafe_(format!(
            "it has {} extents; only one (the file itself) is allowed",
            extents.len()
        ))),
    }
}
