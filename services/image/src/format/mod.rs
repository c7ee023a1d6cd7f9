//! Disk format inspection: what an image's bytes really are, checked against
//! the `disk_format` its owner declared, before the data is kept.
//!
//! Why: a hypervisor that trusts a declared format can be tricked. A qcow2
//! with a backing file or an external data file makes QEMU open a path on
//! the *host* (CVE-2015-5162 and Glance's OSSA-2024-001); a qcow2 declared as
//! `raw` or `iso` hides such a header from the checks. So the head of every
//! upload is matched against every signature we know, ambiguous data (two
//! formats at once) is refused, and the formats QEMU parses are checked for
//! references outside the file.

mod qcow2;
mod signatures;
mod vmdk;

/// How much of an upload's head inspection sees. QCOW2 header extensions
/// and a VMDK descriptor sit within it in any image a tool writes; data
/// claiming otherwise is refused rather than read further.
pub const HEAD_LEN: usize = 1 << 20;

/// A format recognised in an image's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Qcow2,
    Qed,
    Vmdk,
    Vhd,
    Vhdx,
    Vdi,
    Luks,
    Iso,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Qcow2 => "qcow2",
            Format::Qed => "qed",
            Format::Vmdk => "vmdk",
            Format::Vhd => "vhd",
            Format::Vhdx => "vhdx",
            Format::Vdi => "vdi",
            Format::Luks => "luks",
            Format::Iso => "iso",
        }
    }

    /// Formats QEMU interprets (headers pointing elsewhere, metadata to
    /// parse); only ISO is plain data among the ones we recognise.
    fn is_structured(self) -> bool {
        self != Format::Iso
    }
}

/// Why data was refused; the message is for the uploader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("Image data is {actual}, not the declared disk_format {declared}.")]
    Mismatch {
        declared: String,
        actual: &'static str,
    },
    #[error("Image data is not {declared}: its header is missing or malformed ({why}).")]
    Malformed { declared: String, why: String },
    #[error("Image data matches more than one format ({0}); refused as ambiguous.")]
    Ambiguous(String),
    #[error("Image data failed the {format} safety check: {why}.")]
    Unsafe { format: &'static str, why: String },
}

/// What inspection learnt from accepted data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// The size of the disk the image describes, when the format says.
    pub virtual_size: Option<u64>,
}

/// Checks data whose first bytes are `head` (all of it when shorter than
/// [`HEAD_LEN`]) and whose length is `size` against the declared formats.
/// Only `bare` containers hold a disk directly; others are not inspected.
pub fn check(
    disk_format: &str,
    container_format: &str,
    head: &[u8],
    size: u64,
) -> Result<Inspected, FormatError> {
    let found = signatures::detect(head);
    if container_format != "bare" {
        return Ok(Inspected { virtual_size: None });
    }
    let structured: Vec<Format> = found
        .iter()
        .copied()
        .filter(|f| f.is_structured())
        .collect();
    if found.len() > 1 && !structured.is_empty() {
        let names: Vec<&str> = found.iter().map(|f| f.name()).collect();
        return Err(FormatError::Ambiguous(names.join(", ")));
    }
    let declared = |actual: Format| FormatError::Mismatch {
        declared: disk_format.to_owned(),
        actual: actual.name(),
    };
    let not_it = |why: &str| FormatError::Malformed {
        declared: disk_format.to_owned(),
        why: why.to_owned(),
    };
    let want = match disk_format {
        "qcow2" => Format::Qcow2,
        "vmdk" => Format::Vmdk,
        "vhd" => Format::Vhd,
        "vhdx" => Format::Vhdx,
        "vdi" => Format::Vdi,
        "iso" => Format::Iso,
        // raw, ami, ari, aki, ploop: opaque to us, but must not be a format
        // QEMU would parse. An ISO is a valid raw disk (hybrid installers).
        _ => {
            if let Some(f) = structured.first() {
                return Err(declared(*f));
            }
            let virtual_size = (disk_format == "raw").then_some(size);
            return Ok(Inspected { virtual_size });
        }
    };
    match found.first() {
        Some(f) if *f == want => {}
        Some(f) => return Err(declared(*f)),
        None => return Err(not_it("no signature")),
    }
    let virtual_size = match want {
        Format::Qcow2 => Some(qcow2::check(head)?),
        Format::Vmdk => Some(vmdk::check(head)?),
        Format::Vhd => signatures::vhd_size(head),
        Format::Vdi => signatures::vdi_size(head),
        Format::Iso => signatures::iso_size(head),
        _ => None,
    };
    Ok(Inspected { virtual_size })
}

/// Big-endian and little-endian readers that say "too short" instead of
/// panicking; every field offset comes from untrusted data.
pub(crate) mod read {
    pub fn be32(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }
    pub fn be64(b: &[u8], at: usize) -> Option<u64> {
        Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
    }
    pub fn le16(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
    }
    pub fn le32(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }
    pub fn le64(b: &[u8], at: usize) -> Option<u64> {
        Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests;
