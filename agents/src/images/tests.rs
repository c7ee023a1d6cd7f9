//! The node's images over a real cache directory: fetched from this
//! site's store before others, booted from the cache when every source is
//! unreachable (a cut-off site), a corrupt copy refused and fetched again,
//! held images never evicted, an operator's own `_base` file used as is.

use sha2::{Digest, Sha256};
use virga_protocol::agent::{ImageRef, ImageSource};

use super::*;

fn data(seed: u8, len: usize) -> (Vec<u8>, String) {
    let d: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(seed)).collect();
    let h = Sha256::digest(&d)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (d, h)
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    images: NodeImages,
}

fn fixture(limit: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let images =
        NodeImages::open(root.join("_base"), &root.join("_cache"), limit, "edge-1").unwrap();
    Fixture {
        _dir: dir,
        root,
        images,
    }
}

/// An image whose data sits in `<root>/<store>/<id>` for each store named.
fn published(f: &Fixture, id: &str, seed: u8, len: usize, stores: &[&str]) -> ImageRef {
    let (bytes, digest) = data(seed, len);
    let mut sources = vec![];
    for store in stores {
        let dir = f.root.join(store);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(id), &bytes).unwrap();
        sources.push(ImageSource {
            store: store.to_string(),
            url: format!("file://{}/{id}", dir.display()),
        });
    }
    ImageRef {
        id: id.into(),
        disk_format: "qcow2".into(),
        sha256: Some(digest),
        arch: None,
        size: Some(len as u64),
        sources,
    }
}

#[tokio::test]
async fn fetched_from_this_site_first_and_booted_from_the_cache_when_cut_off() {
    let f = fixture(1 << 20);
    let mut img = published(&f, "img-a", 3, 50_000, &["central", "edge-2", "edge-1"]);
    let urls = f.images.urls(&img);
    assert!(urls[0].ends_with("/edge-1/img-a"), "{urls:?}");
    assert!(urls[1].ends_with("/central/img-a"), "{urls:?}");
    assert!(urls[2].ends_with("/edge-2/img-a"), "{urls:?}");
    // The site's copy is the good one; a wrong one elsewhere is never used.
    std::fs::write(f.root.join("central/img-a"), b"not the image").unwrap();
    let boot = f.images.boot_image("i-1", &img).await.unwrap();
    assert_eq!(
        boot.path,
        f.images.cache().path(img.sha256.as_deref().unwrap())
    );
    assert_eq!(boot.format, "qcow2");
    assert_eq!(f.images.held(), vec!["img-a".to_string()]);
    assert!(
        std::fs::symlink_metadata(f.root.join("_base/img-a"))
            .unwrap()
            .is_symlink()
    );

    // Cut off: every source gone; the held copy is verified and used.
    for store in ["central", "edge-1", "edge-2"] {
        std::fs::remove_dir_all(f.root.join(store)).unwrap();
    }
    f.images.boot_image("i-2", &img).await.unwrap();
    f.images.fetch(&img).await.unwrap();

    // A corrupt copy is refused, not booted; with nowhere to fetch from the
    // instance cannot build, and says why.
    std::fs::write(&boot.path, vec![0u8; 50_000]).unwrap();
    let err = f.images.boot_image("i-3", &img).await.unwrap_err();
    assert!(err.contains("could not be fetched"), "{err}");
    // With a source again, it is fetched anew.
    img = published(&f, "img-a", 3, 50_000, &["edge-1"]);
    f.images.boot_image("i-3", &img).await.unwrap();
    assert_eq!(std::fs::read(&boot.path).unwrap(), data(3, 50_000).0);
}

#[tokio::test]
async fn images_in_use_are_held_and_released_ones_evicted() {
    let f = fixture(100_000);
    let a = published(&f, "img-a", 5, 60_000, &["edge-1"]);
    let b = published(&f, "img-b", 7, 60_000, &["edge-1"]);
    f.images.boot_image("i-1", &a).await.unwrap();
    // Both do not fit, and a is in use.
    let err = f.images.fetch(&b).await.unwrap_err();
    assert!(err.contains("cannot make room"), "{err}");
    assert_eq!(f.images.held(), vec!["img-a".to_string()]);

    f.images.release("i-1");
    f.images.fetch(&b).await.unwrap();
    // a was evicted; its `_base` name no longer counts and is cleaned up.
    assert_eq!(f.images.held(), vec!["img-b".to_string()]);
    assert!(std::fs::symlink_metadata(f.root.join("_base/img-a")).is_err());

    // After a restart, `keep` holds what existing instances are built on.
    f.images.keep("i-2", &b);
    let err = f.images.fetch(&a).await.unwrap_err();
    assert!(err.contains("cannot make room"), "{err}");
}

#[tokio::test]
async fn an_operators_own_file_and_missing_images() {
    let f = fixture(1 << 20);
    std::fs::write(f.root.join("_base/local-img"), b"disk").unwrap();
    let mut img = ImageRef::held("local-img", "raw");
    let boot = f.images.boot_image("i-1", &img).await.unwrap();
    assert_eq!(boot.path, f.root.join("_base/local-img"));
    assert_eq!(f.images.held(), vec!["local-img".to_string()]);

    img.id = "elsewhere".into();
    let err = f.images.boot_image("i-2", &img).await.unwrap_err();
    assert!(err.contains("not in this node's image cache"), "{err}");
    img.id = "../etc".into();
    let err = f.images.fetch(&img).await.unwrap_err();
    assert!(err.contains("is not an image id"), "{err}");
}
