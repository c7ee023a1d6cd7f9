//! Tests of the shared private libvirt daemon: it is the run's own (its
//! socket in the run directory) and boots the test VM image (see
//! `scripts/build-test-images.sh`, in `$VIRGA_TEST_IMAGES`) as a TCG guest
//! that reports ready on its serial console.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use virga_testkit::libvirt;

/// How long the guest may take from `virsh start` to its ready line (about
/// 5 s on an idle machine; TCG on 2 busy cores is much slower).
const BOOT_DEADLINE: Duration = Duration::from_secs(60);

fn images() -> PathBuf {
    match std::env::var_os("VIRGA_TEST_IMAGES") {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/virga-test-images")
        }
    }
}

/// A TCG guest booting `disk` (virtio), with user-mode networking and its
/// serial console written to `console`.
fn domain_xml(name: &str, disk: &Path, console: &Path) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
    <serial type='file'>
      <source path='{console}'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
",
        disk = disk.display(),
        console = console.display()
    )
}

/// A defined domain and its scratch directory, both removed when dropped
/// (also when the test fails).
struct Guest {
    name: String,
    dir: PathBuf,
}

impl Drop for Guest {
    fn drop(&mut self) {
        let lv = libvirt::shared();
        // Still defined: the test failed before undefining it.
        if lv.virsh(&["domstate", &self.name]).is_ok() {
            // Fails harmlessly when the domain is not running.
            let _ = lv.virsh(&["destroy", &self.name]);
            if let Err(why) = lv.virsh(&["undefine", &self.name]) {
                eprintln!("{why}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn virsh(args: &[&str]) -> String {
    let lv = libvirt::shared();
    lv.virsh(args)
        .unwrap_or_else(|why| panic!("{why}\n{}", lv.log_tail()))
}

#[test]
fn a_tcg_guest_boots_through_the_private_libvirtd() {
    let base = images().join("virga-test-vm.qcow2");
    assert!(
        base.is_file(),
        "{} is missing: run scripts/build-test-images.sh DIR and set VIRGA_TEST_IMAGES to DIR",
        base.display()
    );
    let lv = libvirt::shared();
    let name = lv.fresh_name("boot");
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let guest = Guest {
        name: name.clone(),
        dir: dir.clone(),
    };

    let disk = dir.join("disk.qcow2");
    let out = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"])
        .arg(&base)
        .arg(&disk)
        .output()
        .expect("qemu-img (install qemu-utils)");
    assert!(
        out.status.success(),
        "qemu-img create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = dir.join("console.log");
    let xml = dir.join("domain.xml");
    std::fs::write(&xml, domain_xml(&name, &disk, &console)).unwrap();

    virsh(&["define", xml.to_str().unwrap()]);
    let started = Instant::now();
    virsh(&["start", &name]);
    assert_eq!(virsh(&["domstate", &name]), "running");
    let ready = loop {
        let text = std::fs::read_to_string(&console).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("VIRGA-TEST-IMAGE-READY")) {
            break line.trim().to_owned();
        }
        assert!(
            started.elapsed() < BOOT_DEADLINE,
            "no VIRGA-TEST-IMAGE-READY on the console after {BOOT_DEADLINE:?}; console:\n{text}\n\
             QEMU log:\n{}\n{}",
            std::fs::read_to_string(lv.domain_log(&name)).unwrap_or_default(),
            lv.log_tail()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!(
        "{name}: `{ready}` {:?} after virsh start",
        started.elapsed()
    );
    assert!(
        !ready.contains("no-address"),
        "the guest got no DHCP lease from user-mode networking: {ready}"
    );

    virsh(&["destroy", &name]);
    assert_eq!(virsh(&["domstate", &name]), "shut off");
    virsh(&["undefine", &name]);
    assert!(
        !virsh(&["list", "--all", "--name"])
            .lines()
            .any(|l| l == name),
        "{name} is still listed after undefine"
    );
    drop(guest);
}

#[test]
fn the_libvirt_daemon_is_private_to_the_run() {
    let lv = libvirt::shared();
    let uri = lv.uri();
    let socket = uri
        .strip_prefix("qemu:///system?socket=")
        .unwrap_or_else(|| panic!("unexpected uri {uri}"));
    let runner = std::os::unix::process::parent_id();
    assert!(
        socket.starts_with(&format!("/tmp/virga-testkit/libvirt-{runner}/")),
        "{socket} is not in this run's directory"
    );
    assert!(Path::new(socket).exists(), "{socket} does not exist");
    // The daemon answers, and is a QEMU driver.
    assert!(virsh(&["version", "--daemon"]).contains("QEMU"));
    assert_ne!(lv.fresh_name("x"), lv.fresh_name("x"));
}
