//! Hand-built headers for the cases real tools will not write (corrupt,
//! truncated, hostile); `tests/format.rs` checks what qemu-img and xorriso
//! really produce.

use super::*;

fn qcow2(version: u32) -> Vec<u8> {
    let mut h = vec![0u8; 4096];
    h[0..4].copy_from_slice(b"QFI\xfb");
    h[4..8].copy_from_slice(&version.to_be_bytes());
    h[20..24].copy_from_slice(&16u32.to_be_bytes());
    h[24..32].copy_from_slice(&(1u64 << 30).to_be_bytes());
    if version == 3 {
        h[100..104].copy_from_slice(&112u32.to_be_bytes());
    }
    h
}

fn ok(disk: &str, head: &[u8]) -> Inspected {
    check(disk, "bare", head, head.len() as u64).unwrap()
}

fn err(disk: &str, head: &[u8]) -> FormatError {
    check(disk, "bare", head, head.len() as u64).unwrap_err()
}

#[test]
fn a_plain_qcow2_is_accepted_with_its_virtual_size() {
    assert_eq!(ok("qcow2", &qcow2(3)).virtual_size, Some(1 << 30));
    assert_eq!(ok("qcow2", &qcow2(2)).virtual_size, Some(1 << 30));
}

#[test]
fn qcow2_that_reaches_outside_itself_is_refused() {
    let mut backing = qcow2(3);
    backing[8..16].copy_from_slice(&512u64.to_be_bytes());
    assert!(
        matches!(err("qcow2", &backing), FormatError::Unsafe { why, .. } if why.contains("backing"))
    );

    let mut data_file = qcow2(3);
    data_file[72..80].copy_from_slice(&4u64.to_be_bytes());
    assert!(
        matches!(err("qcow2", &data_file), FormatError::Unsafe { why, .. } if why.contains("data file"))
    );

    // The extension alone, without the feature bit, is refused too.
    let mut ext = qcow2(3);
    ext[112..116].copy_from_slice(&0x4441_5441u32.to_be_bytes());
    ext[116..120].copy_from_slice(&5u32.to_be_bytes());
    ext[120..125].copy_from_slice(b"/etc/");
    assert!(
        matches!(err("qcow2", &ext), FormatError::Unsafe { why, .. } if why.contains("data file"))
    );

    let mut unknown = qcow2(3);
    unknown[72..80].copy_from_slice(&(1u64 << 40).to_be_bytes());
    assert!(
        matches!(err("qcow2", &unknown), FormatError::Unsafe { why, .. } if why.contains("unknown"))
    );
}

#[test]
fn qcow2_extensions_must_end_inside_what_was_inspected() {
    let mut h = qcow2(3);
    // An extension whose length jumps past the head.
    h[112..116].copy_from_slice(&0x6803_f857u32.to_be_bytes());
    h[116..120].copy_from_slice(&100_000u32.to_be_bytes());
    assert!(matches!(err("qcow2", &h), FormatError::Unsafe { .. }));
    assert!(matches!(
        err("qcow2", &qcow2(3)[..50]),
        FormatError::Malformed { .. }
    ));
    let mut v4 = qcow2(3);
    v4[4..8].copy_from_slice(&4u32.to_be_bytes());
    assert!(matches!(err("qcow2", &v4), FormatError::Malformed { .. }));
}

#[test]
fn a_qcow2_declared_as_anything_else_is_refused() {
    for declared in ["raw", "iso", "vmdk", "ami", "aki", "ploop"] {
        assert_eq!(
            err(declared, &qcow2(3)),
            FormatError::Mismatch {
                declared: declared.into(),
                actual: "qcow2"
            },
            "{declared}"
        );
    }
}

fn iso() -> Vec<u8> {
    let mut h = vec![0u8; 40_000];
    let d = 16 * 2048;
    h[d] = 1;
    h[d + 1..d + 6].copy_from_slice(b"CD001");
    h[d + 80..d + 84].copy_from_slice(&100u32.to_le_bytes());
    h[d + 128..d + 130].copy_from_slice(&2048u16.to_le_bytes());
    h
}

#[test]
fn an_iso_is_an_iso_or_raw_but_not_a_qcow2() {
    assert_eq!(ok("iso", &iso()).virtual_size, Some(204_800));
    assert_eq!(ok("raw", &iso()).virtual_size, Some(40_000));
    assert_eq!(
        err("qcow2", &iso()),
        FormatError::Mismatch {
            declared: "qcow2".into(),
            actual: "iso"
        }
    );
    // Plain data claimed to be an ISO has no descriptor.
    assert!(matches!(
        err("iso", &[7u8; 50_000]),
        FormatError::Malformed { .. }
    ));
}

#[test]
fn data_that_is_two_formats_at_once_is_refused() {
    let mut both = iso();
    both[..4096].copy_from_slice(&qcow2(3));
    for declared in ["qcow2", "iso", "raw"] {
        assert!(
            matches!(err(declared, &both), FormatError::Ambiguous(_)),
            "{declared}"
        );
    }
}

#[test]
fn other_containers_are_not_inspected() {
    let r = check("raw", "ova", &qcow2(3), 4096).unwrap();
    assert_eq!(r.virtual_size, None);
}

fn vmdk(descriptor: &str) -> Vec<u8> {
    let mut h = vec![0u8; 4096];
    h[0..4].copy_from_slice(b"KDMV");
    h[4..8].copy_from_slice(&1u32.to_le_bytes());
    h[12..20].copy_from_slice(&2048u64.to_le_bytes());
    h[28..36].copy_from_slice(&1u64.to_le_bytes());
    h[36..44].copy_from_slice(&2u64.to_le_bytes());
    h[512..512 + descriptor.len()].copy_from_slice(descriptor.as_bytes());
    h
}

#[test]
fn vmdk_must_be_one_sparse_file() {
    let good = "# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicSparse\"\nRW 2048 SPARSE \"a.vmdk\"\n";
    assert_eq!(ok("vmdk", &vmdk(good)).virtual_size, Some(2048 * 512));
    let flat = "createType=\"monolithicFlat\"\nRW 2048 FLAT \"/etc/shadow\" 0\n";
    assert!(matches!(
        err("vmdk", &vmdk(flat)),
        FormatError::Unsafe { .. }
    ));
    let sneaky = "createType=\"monolithicSparse\"\nRW 2048 FLAT \"/etc/shadow\" 0\n";
    assert!(matches!(
        err("vmdk", &vmdk(sneaky)),
        FormatError::Unsafe { .. }
    ));
    let two = "createType=\"streamOptimized\"\nRW 2048 SPARSE \"a\"\nRW 2048 SPARSE \"b\"\n";
    assert!(matches!(
        err("vmdk", &vmdk(two)),
        FormatError::Unsafe { .. }
    ));
    let text = b"# Disk DescriptorFile\ncreateType=\"vmfs\"\n";
    assert!(matches!(err("vmdk", text), FormatError::Unsafe { .. }));
    assert!(matches!(err("raw", text), FormatError::Mismatch { .. }));
}

#[test]
fn raw_is_what_no_signature_claims() {
    assert_eq!(ok("raw", &[0u8; 10]).virtual_size, Some(10));
    assert_eq!(ok("raw", &[]).virtual_size, Some(0));
    assert_eq!(ok("aki", b"MZ kernel").virtual_size, None);
    let mut luks = vec![0u8; 1024];
    luks[..6].copy_from_slice(b"LUKS\xba\xbe");
    assert!(matches!(
        err("raw", &luks),
        FormatError::Mismatch { actual: "luks", .. }
    ));
    assert!(matches!(
        err("qcow2", &[0u8; 100]),
        FormatError::Malformed { .. }
    ));
}
