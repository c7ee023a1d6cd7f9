//! The node image cache against the test kit's HTTP file server: fallback
//! from a failing site store to the centre, a broken transfer resumed where
//! it broke, corrupt copies detected and fetched again, wrong data refused,
//! and least-recently-used eviction that spares images in use.

use sha2::{Digest, Sha256};
use virga_imagecache::{Cache, CacheError, Source};
use virga_testkit::files::FileServer;

fn image(seed: u32, len: usize) -> (Vec<u8>, String) {
    let data: Vec<u8> = (0..len as u32)
        .map(|i| ((i * 31 + seed) % 251) as u8)
        .collect();
    let digest = Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (data, digest)
}

fn source(server: &FileServer, name: &str, digest: &str, len: usize) -> Source {
    Source {
        sha256: digest.to_owned(),
        size: len as u64,
        urls: vec![
            format!("{}/site-store-is-missing-it", server.url),
            format!("{}/{name}", server.url),
        ],
        headers: vec![("X-Auth-Token".into(), "t".into())],
    }
}

#[tokio::test]
async fn fetches_resume_fall_back_and_are_verified() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path(), 100 << 20).unwrap();
    let server = FileServer::start();
    let len = 3 << 20;
    let (data, digest) = image(1, len);
    server.put("a", data.clone());

    server.cut_next();
    let lease = cache
        .ensure(&source(&server, "a", &digest, len), false)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&lease.path).unwrap(), data);
    assert_eq!(
        server.sent(),
        len as u64,
        "resumed where it broke, nothing sent twice"
    );
    let held = cache.contents().unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].sha256, digest);
    drop(lease);

    // A cached copy corrupted in place: found when verified, fetched again.
    let path = dir.path().join("sha256").join(&digest);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[12345] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let before = server.sent();
    let lease = cache
        .ensure(&source(&server, "a", &digest, len), true)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&lease.path).unwrap(), data);
    assert_eq!(server.sent() - before, len as u64, "fetched again");
    drop(lease);
    // A truncated one is caught even without re-hashing; scrub finds the rest.
    std::fs::write(&path, &data[..100]).unwrap();
    cache
        .ensure(&source(&server, "a", &digest, len), false)
        .await
        .unwrap();
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(cache.scrub().await.unwrap(), vec![digest.clone()]);
    assert!(cache.contents().unwrap().is_empty());

    // A source whose data is not the image: refused, nothing kept.
    let (other, _) = image(2, len);
    server.put("liar", other);
    let e = cache
        .ensure(&source(&server, "liar", &digest, len), false)
        .await;
    assert!(
        matches!(e, Err(CacheError::Unavailable { .. })),
        "{:?}",
        e.err()
    );
    assert!(cache.contents().unwrap().is_empty());
    assert!(
        std::fs::read_dir(dir.path().join("partial"))
            .unwrap()
            .next()
            .is_none()
    );
    let e = cache
        .ensure(&source(&server, "a", "../../etc", len), false)
        .await;
    assert!(matches!(e, Err(CacheError::BadDigest(_))));
}

#[tokio::test]
async fn the_least_recently_used_unheld_image_goes_first() {
    let dir = tempfile::tempdir().unwrap();
    let len = 1 << 20;
    let cache = Cache::open(dir.path(), (len * 5 / 2) as u64).unwrap();
    let server = FileServer::start();
    let mut srcs = Vec::new();
    for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
        let (data, digest) = image(10 + i as u32, len);
        server.put(name, data);
        srcs.push(source(&server, name, &digest, len));
    }
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(20));
    drop(cache.ensure(&srcs[0], false).await.unwrap());
    pause().await;
    drop(cache.ensure(&srcs[1], false).await.unwrap());
    pause().await;
    drop(cache.ensure(&srcs[0], false).await.unwrap()); // a is used again
    pause().await;
    let c = cache.ensure(&srcs[2], false).await.unwrap();
    let held: Vec<String> = cache
        .contents()
        .unwrap()
        .into_iter()
        .map(|e| e.sha256)
        .collect();
    assert!(!held.contains(&srcs[1].sha256), "b was least recently used");
    assert!(held.contains(&srcs[0].sha256) && held.contains(&srcs[2].sha256));
    // With a and c both in use, d cannot fit.
    let a = cache.ensure(&srcs[0], false).await.unwrap();
    let e = cache.ensure(&srcs[3], false).await;
    assert!(matches!(e, Err(CacheError::Full { .. })), "{:?}", e.err());
    drop((a, c));
    cache.ensure(&srcs[3], false).await.unwrap();
}

/// A site's storage mounted on the node: read as a `file://` source, a
/// partial copy resumed from where it stopped, a file of the wrong size or
/// a missing one passed over for the next source.
#[tokio::test]
async fn a_mounted_site_store_is_a_file_source() {
    let dir = tempfile::tempdir().unwrap();
    let site = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache"), 1 << 20).unwrap();
    let (data, digest) = image(7, 100_000);
    std::fs::write(site.path().join("img"), &data).unwrap();
    std::fs::write(site.path().join("short"), &data[..10]).unwrap();
    // What a broken earlier copy left.
    std::fs::write(
        dir.path().join("cache/partial").join(&digest),
        &data[..40_000],
    )
    .unwrap();
    let src = Source {
        sha256: digest.clone(),
        size: data.len() as u64,
        urls: vec![
            format!("file://{}/missing", site.path().display()),
            format!("file://{}/short", site.path().display()),
            format!("file://{}/img", site.path().display()),
        ],
        headers: vec![],
    };
    assert!(!cache.has(&digest));
    let lease = cache.ensure(&src, true).await.unwrap();
    assert_eq!(std::fs::read(&lease.path).unwrap(), data);
    assert!(cache.has(&digest));

    // Nothing left to read from: a clear error naming the last failure.
    let (_, other) = image(8, 10);
    let gone = Source {
        sha256: other.clone(),
        size: 10,
        urls: vec![format!("file://{}/missing", site.path().display())],
        headers: vec![],
    };
    let err = cache.ensure(&gone, false).await.err().unwrap().to_string();
    assert!(err.contains("does not exist"), "{err}");
    assert!(!cache.has(&other));
}
