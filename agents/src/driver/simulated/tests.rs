//! The simulated hypervisor behaves as the driver contract says.

use std::collections::BTreeMap;
use std::time::Duration;

use virga_protocol::agent::{ImageRef, InstanceSpec};

use super::*;

pub(crate) fn spec(uuid: &str, memory_mb: u64) -> InstanceSpec {
    InstanceSpec {
        uuid: uuid.into(),
        name: format!("vm-{uuid}"),
        vcpus: 1,
        memory_mb,
        disk_gb: 0,
        image: ImageRef::held("img", "qcow2"),
        ports: vec![],
        metadata: BTreeMap::new(),
        user_data: None,
        build: 0,
    }
}

fn image(name: &str) -> BootImage {
    BootImage {
        path: name.into(),
        format: "qcow2".into(),
    }
}

#[tokio::test]
async fn lifecycle() {
    let d = Simulated::new(SimConfig::default());
    d.spawn(&spec("a", 128), &image("base"), true)
        .await
        .unwrap();
    assert_eq!(d.status("a").await.unwrap(), Some(GuestState::Running));
    assert!(
        d.spawn(&spec("a", 128), &image("base"), true)
            .await
            .is_err()
    );
    d.stop("a", Duration::from_secs(1)).await.unwrap();
    assert_eq!(d.status("a").await.unwrap(), Some(GuestState::Stopped));
    d.start("a").await.unwrap();
    d.start("a").await.unwrap();
    d.reboot("a", false, Duration::from_secs(1)).await.unwrap();
    assert_eq!(d.boots("a"), 3);
    d.rebuild(&spec("a", 128), &image("new"), true)
        .await
        .unwrap();
    assert_eq!(d.image_of("a").unwrap().path.to_str(), Some("new"));
    let log = d.console_log("a", 1 << 16).await.unwrap();
    assert!(
        log.contains("soft reboot") && log.contains("rebuilt"),
        "{log}"
    );
    assert_eq!(d.console_log("a", 5).await.unwrap().len(), 5);
    d.destroy("a").await.unwrap();
    d.destroy("a").await.unwrap();
    assert_eq!(d.status("a").await.unwrap(), None);
    assert!(matches!(d.start("a").await, Err(DriverError::NotFound(_))));
}

#[tokio::test]
async fn refusals_failures_and_host_events() {
    let d = Simulated::new(SimConfig {
        memory_mb: 1024,
        ..SimConfig::default()
    });
    let err = d
        .spawn(&spec("big", 4096), &image("b"), true)
        .await
        .unwrap_err();
    assert!(matches!(err, DriverError::Refused(_)), "{err}");
    d.fail_next(Op::Spawn, 1, "disk full");
    let err = d
        .spawn(&spec("a", 128), &image("b"), true)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("spawn of a"), "{err}");
    d.spawn(&spec("a", 128), &image("b"), true).await.unwrap();
    d.spawn(&spec("b", 128), &image("b"), true).await.unwrap();
    assert!(d.crash("a"));
    assert!(d.power_off("b"));
    let states: Vec<_> = d
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.state)
        .collect();
    assert_eq!(states, vec![GuestState::Crashed, GuestState::Stopped]);
    d.start("a").await.unwrap();
    d.host_reboot();
    assert_eq!(d.status("a").await.unwrap(), Some(GuestState::Stopped));
}

#[test]
fn tails_cut_at_characters() {
    assert_eq!(crate::driver::tail("héllo", 4), "llo");
    assert_eq!(crate::driver::tail("abc", 10), "abc");
}
