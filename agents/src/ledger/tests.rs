//! The ledger on real SQLite files.

use chrono::Duration;

use super::*;
use crate::driver::simulated::tests::spec;
use virga_protocol::agent::InstanceState;

async fn ledger(dir: &tempfile::TempDir) -> Ledger {
    Ledger::open(&dir.path().join("ledger.db")).await.unwrap()
}

#[tokio::test]
async fn the_node_id_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let id = ledger(&dir).await.node_id().await.unwrap();
    assert_eq!(ledger(&dir).await.node_id().await.unwrap(), id);
}

#[tokio::test]
async fn only_newer_generations_apply() {
    let dir = tempfile::tempdir().unwrap();
    let l = ledger(&dir).await;
    let ensure = |desired| move |_: Option<Record>| Record::new("i", Some(spec("i", 64)), desired);
    assert!(matches!(
        l.apply("i", 2, ensure(Desired::Running)).await.unwrap(),
        Applied::Changed(r) if r.generation == 2
    ));
    // A redelivery and an older, late command change nothing.
    assert_eq!(
        l.apply("i", 2, ensure(Desired::Stopped)).await.unwrap(),
        Applied::Stale { have: 2 }
    );
    assert_eq!(
        l.apply("i", 1, ensure(Desired::Stopped)).await.unwrap(),
        Applied::Stale { have: 2 }
    );
    assert_eq!(l.get("i").await.unwrap().unwrap().desired, Desired::Running);
    l.update("i", |r| {
        r.state = InstanceState::Running;
        r.built_image = Some("img".into());
    })
    .await
    .unwrap();
    let Applied::Changed(r) = l
        .apply("i", 3, |cur| {
            let mut r = cur.unwrap();
            r.desired = Desired::Deleted;
            r
        })
        .await
        .unwrap()
    else {
        panic!("generation 3 is newer");
    };
    assert_eq!(
        (r.state, r.built_image.as_deref()),
        (InstanceState::Running, Some("img"))
    );
    // The tombstone keeps a late ensure of generation 2 from reviving it.
    assert_eq!(
        l.apply("i", 2, ensure(Desired::Running)).await.unwrap(),
        Applied::Stale { have: 3 }
    );
    assert_eq!(
        l.purge_deleted(Utc::now() - Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        l.purge_deleted(Utc::now() + Duration::hours(1))
            .await
            .unwrap(),
        1
    );
    assert!(l.all().await.unwrap().is_empty());
    assert!(l.update("i", |_| {}).await.unwrap().is_none());
}

#[tokio::test]
async fn a_file_that_is_not_a_ledger_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let garbage = b"this is not an SQLite database, but someone's notes".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let err = Ledger::open(&path).await.err().expect("refused");
    let text = err.to_string();
    assert!(matches!(err, LedgerError::Corrupt { .. }), "{text}");
    assert!(text.contains("Move the file aside"), "{text}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "never emptied");
}

#[tokio::test]
async fn a_damaged_ledger_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    {
        let l = Ledger::open(&path).await.unwrap();
        for n in 0..200 {
            let id = format!("i{n}");
            l.apply(&id, 1, |_| {
                Record::new(&id, Some(spec(&id, 64)), Desired::Running)
            })
            .await
            .unwrap();
        }
        l.close().await.unwrap();
    }
    // Checkpointed on close; scribble over the middle of the file (not
    // the header, which would read as "not a database" instead).
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 3 * 4096, "{}", bytes.len());
    for b in &mut bytes[4096 + 100..3 * 4096] {
        *b = 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let _ = std::fs::remove_file(dir.path().join("ledger.db-wal"));
    let err = Ledger::open(&path).await.err().expect("refused");
    assert!(matches!(err, LedgerError::Corrupt { .. }), "{err}");
}

#[tokio::test]
async fn the_network_plan_takes_only_newer_generations_and_survives_reopening() {
    use virga_protocol::network::{NetworkPlan, NodeNetwork, Segment};
    let dir = tempfile::tempdir().unwrap();
    let l = ledger(&dir).await;
    assert_eq!(l.network().await.unwrap(), None);
    let plan = NodeNetwork {
        networks: vec![NetworkPlan {
            network_id: "n".into(),
            segment: Segment::Vxlan {
                vni: 7,
                peers: vec![],
            },
            mtu: 1450,
            dhcp: None,
        }],
        ..NodeNetwork::default()
    };
    assert_eq!(l.set_network(3, &plan, "r3").await.unwrap(), Ok(()));
    let empty = NodeNetwork::default();
    assert_eq!(l.set_network(3, &empty, "again").await.unwrap(), Err(3));
    assert_eq!(l.set_network(2, &empty, "late").await.unwrap(), Err(3));
    l.close().await.unwrap();
    let l = ledger(&dir).await;
    let kept = l.network().await.unwrap().unwrap();
    assert_eq!(
        (kept.generation, kept.state, kept.request_id.as_deref()),
        (3, plan, Some("r3"))
    );
    assert_eq!(l.set_network(4, &empty, "r4").await.unwrap(), Ok(()));
    assert_eq!(l.network().await.unwrap().unwrap().state, empty);
}
