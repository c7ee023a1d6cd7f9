//! The libvirt driver against the test kit's private libvirtd, booting the
//! real test image (`scripts/build-test-images.sh`) as a TCG guest: the
//! whole driver contract on a real QEMU, and what the reconcile loop
//! relies on seeing (a guest forced off from outside, a crashed emulator),
//! and a stopped guest's disk exported for a move, booted again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use virga_agent::driver::libvirt::{Libvirt, LibvirtConfig, domain_name};
use virga_agent::driver::{BootImage, Driver, DriverError, GuestState};
use virga_protocol::agent::{ImageRef, InstanceSpec, PortSpec};
use virga_testkit::libvirt;

/// From start to the guest's ready line: ~5 s idle, much more on two busy cores.
const BOOT_DEADLINE: Duration = Duration::from_secs(90);

pub fn images() -> PathBuf {
    std::env::var_os("VIRGA_TEST_IMAGES").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/virga-test-images"),
        PathBuf::from,
    )
}

fn spec(uuid: &str) -> InstanceSpec {
    InstanceSpec {
        uuid: uuid.into(),
        name: "test-vm".into(),
        vcpus: 1,
        memory_mb: 192,
        disk_gb: 1,
        image: ImageRef {
            arch: Some("x86_64".into()),
            ..ImageRef::held("virga-test-vm", "qcow2")
        },
        // User-mode networking: the guest finds its NIC and an address at
        // once instead of waiting for one.
        ports: vec![PortSpec {
            id: "p1".into(),
            mac: "52:54:00:12:34:56".into(),
            bridge: None,
        }],
        metadata: BTreeMap::from([("role".to_string(), "web".to_string())]),
        // "#cloud-config\nhostname: t\n"
        user_data: Some("I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogdAo=".into()),
        build: 0,
    }
}

/// A file of the instance's config drive, read back from the ISO.
fn config_drive_file(iso: &std::path::Path, name: &str) -> String {
    let out = tempfile::tempdir().unwrap();
    let to = out.path().join("f");
    let st = std::process::Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", name])
        .arg(&to)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    std::fs::read_to_string(to).unwrap()
}

async fn ready_lines(d: &Libvirt, id: &str, want: usize) -> String {
    let until = Instant::now() + BOOT_DEADLINE;
    loop {
        let log = d.console_log(id, 1 << 20).await.unwrap();
        if log.matches("VIRGA-TEST-IMAGE-READY").count() >= want {
            return log;
        }
        assert!(
            Instant::now() < until,
            "no ready line #{want} in time; console:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn state_becomes(d: &Libvirt, id: &str, want: Option<GuestState>) {
    let until = Instant::now() + Duration::from_secs(20);
    while d.status(id).await.unwrap() != want {
        assert!(Instant::now() < until, "{id} never became {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_guest_through_its_whole_life() {
    let kit = tokio::task::block_in_place(libvirt::shared);
    let dir = tempfile::tempdir().unwrap();
    let d = Libvirt::connect(LibvirtConfig {
        uri: kit.uri(),
        domain_type: "qemu".into(),
        arch: "x86_64".into(),
        instance_path: dir.path().to_owned(),
    })
    .await
    .unwrap();
    let caps = d.capabilities().await.unwrap();
    assert!(caps.domain_types.contains(&"qemu".to_string()), "{caps:?}");
    let image = BootImage {
        path: images().join("virga-test-vm.qcow2"),
        format: "qcow2".into(),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let s = spec(&id);

    d.spawn(&s, &image, true).await.unwrap();
    assert!(matches!(
        d.spawn(&s, &image, true).await,
        Err(DriverError::Refused(_))
    ));
    // User data that is not base64 is refused, with the reason.
    let mut bad = spec(&uuid::Uuid::new_v4().to_string());
    bad.user_data = Some("not base64!".into());
    match d.spawn(&bad, &image, true).await {
        Err(DriverError::Refused(why)) => assert!(why.contains("user_data"), "{why}"),
        other => panic!("bad user data accepted: {other:?}"),
    }
    assert_eq!(d.status(&bad.uuid).await.unwrap(), None);
    assert_eq!(d.status(&id).await.unwrap(), Some(GuestState::Running));
    let log = ready_lines(&d, &id, 1).await;
    assert!(log.contains("VIRGA-TEST-IMAGE-READY 10.0.2.15"), "{log}");
    let stats = d.stats(&id).await.unwrap();
    assert!(stats.cpu_time_ns > 0 && stats.memory_kb > 0, "{stats:?}");
    assert!(d.list().await.unwrap().iter().any(|g| g.id == id));
    // The disk is an overlay: the cached image is never written.
    let disk = dir.path().join(&id).join("disk.qcow2");
    let info = std::process::Command::new("qemu-img")
        .args(["info", "-U", "--output=json", disk.to_str().unwrap()])
        .output()
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["backing-filename"], image.path.to_str().unwrap());
    assert_eq!(info["virtual-size"], 1u64 << 30);
    // The config drive: attached, labelled, with the instance's identity,
    // metadata and user data where cloud-init looks.
    let drive = dir.path().join(&id).join("disk.config");
    let xml = kit.virsh(&["dumpxml", &domain_name(&id)]).unwrap();
    assert!(xml.contains(drive.to_str().unwrap()), "{xml}");
    let meta: serde_json::Value = serde_json::from_str(&config_drive_file(
        &drive,
        "/openstack/latest/meta_data.json",
    ))
    .unwrap();
    assert_eq!(meta["uuid"], id.as_str());
    assert_eq!(meta["hostname"], "test-vm");
    assert_eq!(meta["meta"]["role"], "web");
    assert_eq!(
        config_drive_file(&drive, "/openstack/latest/user_data"),
        "#cloud-config\nhostname: t\n"
    );
    let label = std::process::Command::new("xorriso")
        .args(["-indev", drive.to_str().unwrap(), "-pvd_info"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&label.stdout).contains("config-2"));

    // busybox ignores ACPI: a graceful stop is forced after its timeout.
    d.stop(&id, Duration::from_secs(1)).await.unwrap();
    assert_eq!(d.status(&id).await.unwrap(), Some(GuestState::Stopped));
    d.start(&id).await.unwrap();
    ready_lines(&d, &id, 2).await;
    d.pause(&id).await.unwrap();
    assert_eq!(d.status(&id).await.unwrap(), Some(GuestState::Paused));
    d.pause(&id).await.unwrap();
    d.unpause(&id).await.unwrap();
    assert_eq!(d.status(&id).await.unwrap(), Some(GuestState::Running));
    // An NMI (a crash dump's trigger) reaches the guest's kernel, which
    // has no handler set up for it and says so on the console.
    d.inject_nmi(&id).await.unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let log = d.console_log(&id, 1 << 20).await.unwrap();
        if log.contains("NMI received") {
            break;
        }
        assert!(std::time::Instant::now() < until, "no NMI seen:\n{log}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    d.reboot(&id, true, Duration::from_secs(1)).await.unwrap();
    let log = ready_lines(&d, &id, 3).await;
    assert!(log.len() > 100);

    // Forced off from outside (what a power-off looks like to the agent),
    // then its emulator killed: a crash.
    kit.virsh(&["destroy", &domain_name(&id)]).unwrap();
    state_becomes(&d, &id, Some(GuestState::Stopped)).await;
    d.start(&id).await.unwrap();
    let pid = kit
        .qemu_pid(&domain_name(&id))
        .expect("a running domain has a pid");
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    state_becomes(&d, &id, Some(GuestState::Crashed)).await;

    // Rebuild: a fresh disk from the image, same domain.
    d.rebuild(&s, &image, true).await.unwrap();
    let log = ready_lines(&d, &id, 4).await;
    assert!(log.contains("READY"));

    // Exported for a move: refused while it runs; stopped, one standalone
    // qcow2 (the image folded in) that another guest boots from.
    let out = dir.path().join("exported.qcow2");
    assert!(matches!(
        d.export_disk(&id, &out, "qcow2").await,
        Err(DriverError::Refused(_))
    ));
    d.stop(&id, Duration::from_secs(1)).await.unwrap();
    d.export_disk(&id, &out, "qcow2").await.unwrap();
    let info = std::process::Command::new("qemu-img")
        .args(["info", "--output=json", out.to_str().unwrap()])
        .output()
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["format"], "qcow2", "{info}");
    assert!(info.get("backing-filename").is_none(), "{info}");
    assert_eq!(info["virtual-size"], 1u64 << 30);
    let moved = uuid::Uuid::new_v4().to_string();
    let exported = BootImage {
        path: out.clone(),
        format: "qcow2".into(),
    };
    d.spawn(&spec(&moved), &exported, true).await.unwrap();
    let log = ready_lines(&d, &moved, 1).await;
    assert!(log.contains("VIRGA-TEST-IMAGE-READY"), "{log}");
    d.destroy(&moved).await.unwrap();

    d.destroy(&id).await.unwrap();
    d.destroy(&id).await.unwrap();
    assert_eq!(d.status(&id).await.unwrap(), None);
    assert!(!dir.path().join(&id).exists());
    assert!(matches!(
        d.console_log(&id, 10).await,
        Err(DriverError::NotFound(_))
    ));
}
