//! Format inspection against images real tools write: qemu-img for the disk
//! formats (including the hostile qcow2 variants) and xorriso for ISOs.

use std::path::Path;
use std::process::Command;

use virga_image::format::{FormatError, HEAD_LEN, check};

fn run(dir: &Path, cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (install qemu-utils and xorriso): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn inspect(dir: &Path, file: &str, disk_format: &str) -> Result<Option<u64>, FormatError> {
    let data = std::fs::read(dir.join(file)).unwrap();
    let head = &data[..data.len().min(HEAD_LEN)];
    check(disk_format, "bare", head, data.len() as u64).map(|i| i.virtual_size)
}

fn img(dir: &Path, args: &[&str]) {
    run(dir, "qemu-img", &[&["create", "-q"], args].concat());
}

#[test]
fn qemu_img_disks_are_recognised_with_their_virtual_size() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    img(p, &["-f", "qcow2", "v3.qcow2", "64M"]);
    img(p, &["-f", "qcow2", "-o", "compat=0.10", "v2.qcow2", "64M"]);
    img(p, &["-f", "vmdk", "sparse.vmdk", "64M"]);
    img(
        p,
        &[
            "-f",
            "vmdk",
            "-o",
            "subformat=streamOptimized",
            "stream.vmdk",
            "64M",
        ],
    );
    img(p, &["-f", "vpc", "dyn.vhd", "64M"]);
    img(p, &["-f", "vhdx", "a.vhdx", "64M"]);
    img(p, &["-f", "vdi", "a.vdi", "64M"]);
    let mib64 = Some(64 << 20);
    assert_eq!(inspect(p, "v3.qcow2", "qcow2"), Ok(mib64));
    assert_eq!(inspect(p, "v2.qcow2", "qcow2"), Ok(mib64));
    assert_eq!(inspect(p, "sparse.vmdk", "vmdk"), Ok(mib64));
    assert_eq!(inspect(p, "stream.vmdk", "vmdk"), Ok(mib64));
    // VPC rounds to its CHS geometry, so only about 64 MiB.
    let vhd = inspect(p, "dyn.vhd", "vhd").unwrap().unwrap();
    assert!(vhd.abs_diff(64 << 20) < 1 << 20, "{vhd}");
    assert!(inspect(p, "a.vhdx", "vhdx").is_ok());
    assert_eq!(inspect(p, "a.vdi", "vdi"), Ok(mib64));
    for (file, actual) in [
        ("v3.qcow2", "qcow2"),
        ("sparse.vmdk", "vmdk"),
        ("dyn.vhd", "vhd"),
        ("a.vhdx", "vhdx"),
        ("a.vdi", "vdi"),
    ] {
        assert_eq!(
            inspect(p, file, "raw"),
            Err(FormatError::Mismatch {
                declared: "raw".into(),
                actual
            }),
            "{file}"
        );
    }
}

#[test]
fn qcow2_with_a_backing_file_or_external_data_file_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    img(p, &["-f", "raw", "base.raw", "16M"]);
    img(
        p,
        &["-f", "qcow2", "-b", "base.raw", "-F", "raw", "child.qcow2"],
    );
    img(
        p,
        &["-f", "qcow2", "-o", "data_file=ext.raw", "ext.qcow2", "16M"],
    );
    let backing = inspect(p, "child.qcow2", "qcow2").unwrap_err();
    assert!(backing.to_string().contains("backing file"), "{backing}");
    let ext = inspect(p, "ext.qcow2", "qcow2").unwrap_err();
    assert!(ext.to_string().contains("external data file"), "{ext}");
    // Declaring them raw does not get them through either.
    assert!(matches!(
        inspect(p, "child.qcow2", "raw"),
        Err(FormatError::Mismatch { .. })
    ));
}

/// What a node sends when a server moves: its overlay folded into one
/// file with `qemu-img convert` (the agent's `export_disk`) is a plain
/// qcow2 the upload accepts, though the overlay itself is refused.
#[test]
fn a_flattened_overlay_is_accepted() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    img(p, &["-f", "qcow2", "base.qcow2", "16M"]);
    img(
        p,
        &[
            "-f",
            "qcow2",
            "-F",
            "qcow2",
            "-b",
            "base.qcow2",
            "disk.qcow2",
            "32M",
        ],
    );
    run(
        p,
        "qemu-img",
        &[
            "convert",
            "-q",
            "-f",
            "qcow2",
            "-O",
            "qcow2",
            "disk.qcow2",
            "moved.qcow2",
        ],
    );
    assert!(inspect(p, "disk.qcow2", "qcow2").is_err());
    assert_eq!(inspect(p, "moved.qcow2", "qcow2"), Ok(Some(32 << 20)));
}

#[test]
fn vmdk_create_types_that_reference_other_files_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    img(
        p,
        &[
            "-f",
            "vmdk",
            "-o",
            "subformat=monolithicFlat",
            "flat.vmdk",
            "16M",
        ],
    );
    img(
        p,
        &[
            "-f",
            "vmdk",
            "-o",
            "subformat=twoGbMaxExtentSparse",
            "split.vmdk",
            "16M",
        ],
    );
    for f in ["flat.vmdk", "split.vmdk"] {
        assert!(
            matches!(inspect(p, f, "vmdk"), Err(FormatError::Unsafe { .. })),
            "{f}"
        );
    }
}

#[test]
fn xorriso_isos_are_isos_and_not_qcow2() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::create_dir(p.join("root")).unwrap();
    std::fs::write(p.join("root/hello.txt"), "hello").unwrap();
    run(
        p,
        "xorriso",
        &[
            "-as", "mkisofs", "-quiet", "-V", "VIRGA", "-o", "a.iso", "root",
        ],
    );
    let size = std::fs::metadata(p.join("a.iso")).unwrap().len();
    assert_eq!(inspect(p, "a.iso", "iso"), Ok(Some(size)));
    assert_eq!(inspect(p, "a.iso", "raw"), Ok(Some(size)));
    assert_eq!(
        inspect(p, "a.iso", "qcow2"),
        Err(FormatError::Mismatch {
            declared: "qcow2".into(),
            actual: "iso"
        })
    );
}
