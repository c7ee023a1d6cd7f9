//! The local store's two-phase write: nothing readable (or left behind)
//! until commit, a failed ingest leaves no trace, keys cannot escape.

use bytes::Bytes;
use virga_image::app::ingest::{Expect, IngestError, ingest};
use virga_image::store::{LocalStore, Store, StoreError};

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

async fn read_all(store: &dyn Store, key: &str, start: u64, end: u64) -> Vec<u8> {
    use futures::TryStreamExt;
    let chunks: Vec<Bytes> = store
        .read(key, start, end)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    chunks.concat()
}

#[tokio::test]
async fn writes_are_invisible_until_committed_and_aborts_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().to_path_buf());
    let mut w = store.begin("img").await.unwrap();
    w.write(Bytes::from_static(b"hello ")).await.unwrap();
    assert!(matches!(
        store.read("img", 0, 5).await,
        Err(StoreError::NotFound(_))
    ));
    w.write(Bytes::from_static(b"world")).await.unwrap();
    w.commit().await.unwrap();
    assert_eq!(read_all(&store, "img", 0, 11).await, b"hello world");
    assert_eq!(read_all(&store, "img", 6, 11).await, b"world");

    let mut w = store.begin("img").await.unwrap();
    w.write(Bytes::from_static(b"other")).await.unwrap();
    w.abort().await;
    assert_eq!(files(dir.path()), ["img"]);
    assert_eq!(read_all(&store, "img", 0, 11).await, b"hello world");

    for bad in ["", "../x", "a/../../x", ".hidden", "/abs"] {
        assert!(store.begin(bad).await.is_err(), "{bad}");
    }
    store.delete("img").await.unwrap();
    store.delete("img").await.unwrap();
    assert!(files(dir.path()).is_empty());
}

#[tokio::test]
async fn a_failed_ingest_keeps_the_old_data_and_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().to_path_buf());
    let body = |b: &'static [u8]| -> virga_image::store::ByteStream {
        Box::pin(futures::stream::iter([Ok(Bytes::from_static(b))]))
    };
    let expect = Expect {
        cap: 100,
        ..Expect::default()
    };
    let got = ingest(&store, "k", body(b"abc"), &expect).await.unwrap();
    assert_eq!(got.size, 3);
    assert_eq!(
        got.sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let wrong_size = Expect {
        size: Some(4),
        ..expect.clone()
    };
    let e = ingest(&store, "k", body(b"xyz"), &wrong_size)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            IngestError::SizeMismatch {
                expected: 4,
                got: 3
            }
        ),
        "{e}"
    );
    let wrong_hash = Expect {
        sha256: Some("00".repeat(32)),
        ..expect.clone()
    };
    let e = ingest(&store, "k", body(b"xyz"), &wrong_hash)
        .await
        .unwrap_err();
    assert!(
        matches!(e, IngestError::HashMismatch { algo: "sha256", .. }),
        "{e}"
    );
    let small = Expect { cap: 2, ..expect };
    let e = ingest(&store, "k", body(b"xyz"), &small).await.unwrap_err();
    assert!(matches!(e, IngestError::TooLarge { limit: 2 }), "{e}");
    assert_eq!(files(dir.path()), ["k"]);
    assert_eq!(read_all(&store, "k", 0, 3).await, b"abc");
}
