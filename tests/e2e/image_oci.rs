//! OCI image archives (`container_format` `oci`, or `docker` for an OCI
//! layout that `docker save` wrote) through the image API: archives GNU
//! tar writes (gnu and pax formats) are taken in, their layers stored once
//! by digest however many images carry them, and downloaded byte for byte
//! as uploaded; archives that are not a complete layout are refused with
//! nothing left behind; deleting images frees the blobs only they used.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::json;
use sha2::Digest;
use virga_tests::Cloud;

use super::image::{Caller, member};
use super::image_data::{get_file, hex, put_file};

crate::on_both_backends!(archives);

const OCTETS: &str = "application/octet-stream";

/// Deterministic bytes: `n` of them from `seed`.
fn bytes(seed: u32, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn put_blob(dir: &Path, data: &[u8], media: &str) -> serde_json::Value {
    let h = hex(&sha2::Sha256::digest(data));
    std::fs::write(dir.join("blobs/sha256").join(&h), data).unwrap();
    json!({"mediaType": media, "digest": format!("sha256:{h}"), "size": data.len()})
}

/// An OCI image layout with these layers, in a fresh directory.
fn layout(layers: &[&[u8]]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("blobs/sha256")).unwrap();
    let layers: Vec<_> = layers
        .iter()
        .map(|l| put_blob(d, l, "application/vnd.oci.image.layer.v1.tar+gzip"))
        .collect();
    let diff_ids: Vec<_> = layers.iter().map(|l| l["digest"].clone()).collect();
    let config = json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids}});
    let config = put_blob(
        d,
        config.to_string().as_bytes(),
        "application/vnd.oci.image.config.v1+json",
    );
    let manifest = json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config, "layers": layers});
    let mut manifest = put_blob(
        d,
        manifest.to_string().as_bytes(),
        "application/vnd.oci.image.manifest.v1+json",
    );
    manifest["annotations"] = json!({"org.opencontainers.image.ref.name": "test:latest"});
    let index = json!({"schemaVersion": 2, "manifests": [manifest]});
    std::fs::write(d.join("index.json"), index.to_string()).unwrap();
    std::fs::write(d.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    dir
}

/// The layout in `dir` archived by GNU tar in `format` (gnu, posix).
fn archive(dir: &Path, format: &str) -> Vec<u8> {
    let out = tempfile::NamedTempFile::new().unwrap();
    let r = std::process::Command::new("tar")
        .args([
            "--sort=name",
            "--mtime=@0",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
        ])
        .arg(format!("--format={format}"))
        .arg("-C")
        .arg(dir)
        .arg("-cf")
        .arg(out.path())
        .arg(".")
        .output()
        .unwrap();
    assert!(r.status.success(), "{r:?}");
    std::fs::read(out.path()).unwrap()
}

fn blob_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir.join("blobs/sha256"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// What `blobs_dir` (the store's `blobs/sha256`) holds.
fn stored(blobs_dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(blobs_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect()
}

async fn status(c: &Caller<'_>, id: &str) -> serde_json::Value {
    let (s, shown, _) = c.call(Method::GET, &format!("/v2/images/{id}"), None).await;
    assert_eq!(s, 200);
    shown
}

async fn new_image(c: &Caller<'_>, container: &str) -> String {
    let img = c
        .create(json!({"name": "oci", "disk_format": "raw", "container_format": container}))
        .await;
    img["id"].as_str().unwrap().to_owned()
}

async fn refused(c: &Caller<'_>, data: Vec<u8>, why: &str, blobs_dir: &Path) {
    let before = stored(blobs_dir);
    let id = new_image(c, "oci").await;
    let resp = reqwest::Client::new()
        .put(format!("{}/v2/images/{id}/file", c.cloud.url("image")))
        .header("X-Auth-Token", &c.token)
        .header("Content-Type", OCTETS)
        .body(data)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400, "{why}");
    let body = resp.text().await.unwrap();
    assert!(body.contains(why), "{why}: {body}");
    assert_eq!(status(c, &id).await["status"], "queued", "{why}");
    assert_eq!(stored(blobs_dir), before, "{why}: no blob of it is left");
}

async fn archives(cloud: &Cloud) {
    let blobs_dir = cloud.config.data_dir.join("images/blobs/sha256");
    oci_images(cloud, &blobs_dir).await;
}

/// The whole story, on whichever store `blobs_dir` belongs to.
pub(crate) async fn oci_images(cloud: &Cloud, blobs_dir: &Path) {
    let admin = cloud.admin_token().await;
    let (alice, _) = member(cloud, &admin, "alpha").await;
    let base = bytes(1, 700_000);
    let (app_a, app_b) = (bytes(2, 300_000), bytes(3, 5));
    let dir_a = layout(&[&base, &app_a]);
    let dir_b = layout(&[&base, &app_b]);
    let tar_a = archive(dir_a.path(), "gnu");
    let tar_b = archive(dir_b.path(), "posix");

    let a = new_image(&alice, "oci").await;
    let b = new_image(&alice, "oci").await;
    for (id, tar) in [(&a, &tar_a), (&b, &tar_b)] {
        assert_eq!(
            put_file(&alice, id, OCTETS, Some(tar.len() as u64), tar.clone()).await,
            204
        );
        let shown = status(&alice, id).await;
        assert_eq!(shown["status"], "active", "{shown}");
        assert_eq!(shown["size"], tar.len());
        assert_eq!(shown["checksum"], hex(&md5::Md5::digest(tar)));
        assert_eq!(shown["os_hash_value"], hex(&sha2::Sha256::digest(tar)));
        let got = get_file(&alice, id, None).await;
        assert_eq!(got.status().as_u16(), 200);
        assert!(
            got.bytes().await.unwrap() == tar.as_slice(),
            "downloaded as uploaded"
        );
        let recipe = blobs_dir.join("../..").join(id);
        let len = std::fs::metadata(&recipe).unwrap().len();
        assert!(
            len < 16 << 10,
            "the image's own key holds a recipe, not the layers: {len}"
        );
    }
    let part = get_file(&alice, &a, Some("bytes=1000-400000")).await;
    assert_eq!(part.status().as_u16(), 206);
    assert!(
        part.bytes().await.unwrap() == tar_a[1000..400_001],
        "a range across blobs"
    );
    let tail = get_file(&alice, &b, Some("bytes=-2000")).await;
    assert!(tail.bytes().await.unwrap() == tar_b[tar_b.len() - 2000..]);

    let (in_a, in_b) = (blob_names(dir_a.path()), blob_names(dir_b.path()));
    let union: BTreeSet<String> = in_a.union(&in_b).cloned().collect();
    assert_eq!(
        stored(blobs_dir),
        union,
        "each blob stored once, the base layer shared"
    );
    assert_eq!(union.len(), in_a.len() + in_b.len() - 1);

    // Archives that are not a whole, honest layout.
    let bad = layout(&[&bytes(4, 1000)]);
    let victim = blob_names(bad.path()).into_iter().next().unwrap();
    let tampered = bad.path().join("blobs/sha256").join(&victim);
    let mut content = std::fs::read(&tampered).unwrap();
    content[0] ^= 1;
    std::fs::write(&tampered, &content).unwrap();
    refused(
        &alice,
        archive(bad.path(), "gnu"),
        "does not match its digest",
        blobs_dir,
    )
    .await;
    let missing = layout(&[&bytes(5, 1000), &base]);
    let layer = hex(&sha2::Sha256::digest(bytes(5, 1000)));
    std::fs::remove_file(missing.path().join("blobs/sha256").join(&layer)).unwrap();
    refused(
        &alice,
        archive(missing.path(), "gnu"),
        "not in the archive",
        blobs_dir,
    )
    .await;
    refused(&alice, bytes(6, 4096), "malformed", blobs_dir).await;
    refused(
        &alice,
        tar_a[..tar_a.len() / 2].to_vec(),
        "truncated",
        blobs_dir,
    )
    .await;
    let linked = layout(&[&bytes(7, 100)]);
    std::os::unix::fs::symlink("index.json", linked.path().join("extra")).unwrap();
    refused(
        &alice,
        archive(linked.path(), "gnu"),
        "not a regular file",
        blobs_dir,
    )
    .await;
    let legacy = layout(&[&bytes(8, 100)]);
    std::fs::remove_file(legacy.path().join("oci-layout")).unwrap();
    refused(
        &alice,
        archive(legacy.path(), "gnu"),
        "no oci-layout",
        blobs_dir,
    )
    .await;
    let mut trailing = tar_a.clone();
    trailing.extend_from_slice(b"junk");
    refused(&alice, trailing, "follows the end", blobs_dir).await;

    // What `docker save` writes since Docker 25 is an OCI layout too.
    let docker = new_image(&alice, "docker").await;
    std::fs::write(dir_b.path().join("manifest.json"), "[]").unwrap();
    let tar_d = archive(dir_b.path(), "gnu");
    assert_eq!(
        put_file(&alice, &docker, OCTETS, None, tar_d.clone()).await,
        204
    );
    assert!(get_file(&alice, &docker, None).await.bytes().await.unwrap() == tar_d);

    for (id, left) in [
        (&a, in_b.clone()),
        (&b, in_b.clone()),
        (&docker, BTreeSet::new()),
    ] {
        let (s, _, _) = alice
            .call(Method::DELETE, &format!("/v2/images/{id}"), None)
            .await;
        assert_eq!(s, 204);
        assert_eq!(stored(blobs_dir), left, "only blobs no image uses go");
    }
}

/// The scale-out layout: blobs and recipes in an S3-compatible bucket.
#[tokio::test]
async fn archives_on_an_s3_store() {
    let s3 = virga_testkit::s3::S3Server::start(&["images"]).unwrap();
    let cloud = super::image_data::on_s3(&s3).await;
    let blobs: PathBuf = s3.root().join("images/virga/blobs/sha256");
    oci_images(&cloud, &blobs).await;
    cloud.stop().await;
}
