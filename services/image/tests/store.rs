//! The store contract, on the local filesystem and on a real S3-compatible
//! server (s3s-fs): nothing readable until commit, an abort or a failed
//! ingest leaves the old data, ranges and empty objects read back right;
//! and the local store's own guarantees (no partial files, keys cannot
//! escape its directory).

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

/// What every store must do.
async fn contract(store: &dyn Store) {
    let mut w = store.begin("c/img").await.unwrap();
    w.write(Bytes::from_static(b"hello ")).await.unwrap();
    assert!(matches!(
        store.read("c/img", 0, 5).await,
        Err(StoreError::NotFound(_))
    ));
    w.write(Bytes::from_static(b"world")).await.unwrap();
    w.commit().await.unwrap();
    assert_eq!(read_all(store, "c/img", 0, 11).await, b"hello world");
    assert_eq!(read_all(store, "c/img", 6, 11).await, b"world");
    assert_eq!(read_all(store, "c/img", 6, u64::MAX).await, b"world");

    let mut w = store.begin("c/img").await.unwrap();
    w.write(Bytes::from_static(b"other")).await.unwrap();
    w.abort().await;
    assert_eq!(read_all(store, "c/img", 0, 11).await, b"hello world");

    // Larger than one multipart part (5 MiB), read across a part boundary.
    let big: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    let mut w = store.begin("c/big").await.unwrap();
    for chunk in big.chunks(300_000) {
        w.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    w.commit().await.unwrap();
    let (a, b) = (5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 10);
    assert_eq!(
        read_all(store, "c/big", a as u64, b as u64).await,
        &big[a..b]
    );
    assert_eq!(read_all(store, "c/big", 0, big.len() as u64).await, big);

    let w = store.begin("c/empty").await.unwrap();
    w.commit().await.unwrap();
    assert!(read_all(store, "c/empty", 0, u64::MAX).await.is_empty());

    let body = |b: &'static [u8]| -> virga_image::store::ByteStream {
        Box::pin(futures::stream::iter([Ok(Bytes::from_static(b))]))
    };
    let bad = Expect {
        cap: 100,
        size: Some(9),
        ..Expect::default()
    };
    assert!(ingest(store, "c/img", body(b"xyz"), &bad).await.is_err());
    assert_eq!(read_all(store, "c/img", 0, 11).await, b"hello world");

    for k in ["c/img", "c/big", "c/empty"] {
        store.delete(k).await.unwrap();
        store.delete(k).await.unwrap();
        assert!(
            matches!(store.read(k, 0, 1).await, Err(StoreError::NotFound(_))),
            "{k}"
        );
    }
}

#[tokio::test]
async fn the_local_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(&LocalStore::new(dir.path().to_path_buf())).await;
}

#[tokio::test]
async fn the_s3_store_keeps_the_contract() {
    let s3 = virga_testkit::s3::S3Server::start(&["images"]).unwrap();
    let store = virga_image::store::S3Store::new(&virga_common::config::S3StoreConfig {
        endpoint: s3.endpoint.clone(),
        bucket: "images".into(),
        region: "us-east-1".into(),
        access_key_id: s3.access_key.clone(),
        secret_access_key: s3.secret_key.clone(),
        prefix: "virga".into(),
    })
    .unwrap();
    contract(&store).await;
    // Wrong credentials are refused by the server, not silently accepted.
    let wrong = virga_image::store::S3Store::new(&virga_common::config::S3StoreConfig {
        endpoint: s3.endpoint.clone(),
        bucket: "images".into(),
        region: "us-east-1".into(),
        access_key_id: s3.access_key.clone(),
        secret_access_key: "not-the-secret".into(),
        prefix: String::new(),
    })
    .unwrap();
    assert!(wrong.begin("x").await.is_err());
}
