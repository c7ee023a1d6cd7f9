//! `/v2/images/{id}/file` with identity's real tokens: uploads hashed and
//! inspected as they stream, downloads whole and by range, deactivation;
//! and the data a careful cloud refuses (wrong size, md5 or format, unsafe
//! qcow2), after which the image is `queued` again with nothing stored.

use reqwest::Method;
use serde_json::json;
use virga_tests::Cloud;

use super::image::{Caller, member, patch};

crate::on_both_backends!(data);

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn put_file(
    c: &Caller<'_>,
    id: &str,
    media: &str,
    size: Option<u64>,
    data: Vec<u8>,
) -> u16 {
    let size: Vec<(&str, String)> = size
        .map(|s| ("X-OpenStack-Image-Size", s.to_string()))
        .into_iter()
        .collect();
    put(c, id, media, data, &size).await.0
}

pub(crate) async fn get_file(c: &Caller<'_>, id: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .get(format!("{}/v2/images/{id}/file", c.cloud.url("image")))
        .header("X-Auth-Token", &c.token);
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    req.send().await.unwrap()
}

async fn data(cloud: &Cloud) {
    use sha2::Digest;
    const OCTETS: &str = "application/octet-stream";
    let admin_token = cloud.admin_token().await;
    let admin = Caller {
        cloud,
        token: admin_token.clone(),
    };
    let (alice, _) = member(cloud, &admin_token, "alpha").await;
    // 3 MiB and a bit, so it crosses many chunks.
    let payload: Vec<u8> = (0..3 * 1024 * 1024 + 77u32)
        .map(|i| (i * 31 % 251) as u8)
        .collect();

    let bare = alice.create(json!({"name": "no-formats"})).await;
    let bare_id = bare["id"].as_str().unwrap();
    assert_eq!(
        put_file(&alice, bare_id, OCTETS, None, b"x".to_vec()).await,
        400
    );

    let img = alice
        .create(json!({"name": "disk", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap();
    assert_eq!(
        get_file(&alice, id, None).await.status().as_u16(),
        204,
        "no data yet"
    );
    assert_eq!(
        put_file(&alice, id, "application/json", None, payload.clone()).await,
        415
    );

    // A body shorter than announced is refused and the image is queued again.
    let short = payload[..1000].to_vec();
    assert_eq!(put_file(&alice, id, OCTETS, Some(5000), short).await, 400);
    let (_, shown, _) = alice
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(shown["status"], "queued", "{shown}");

    let size = payload.len() as u64;
    assert_eq!(
        put_file(&alice, id, OCTETS, Some(size), payload.clone()).await,
        204
    );
    let (_, shown, _) = alice
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(shown["status"], "active", "{shown}");
    assert_eq!(shown["size"], size);
    assert_eq!(shown["checksum"], hex(&md5::Md5::digest(&payload)));
    assert_eq!(shown["os_hash_algo"], "sha256");
    assert_eq!(shown["os_hash_value"], hex(&sha2::Sha256::digest(&payload)));
    assert_eq!(shown["virtual_size"], size, "raw: the data is the disk");
    assert_eq!(
        put_file(&alice, id, OCTETS, Some(size), payload.clone()).await,
        409,
        "active is final"
    );

    let whole = get_file(&alice, id, None).await;
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(
        whole.headers()["content-md5"],
        shown["checksum"].as_str().unwrap()
    );
    assert_eq!(whole.bytes().await.unwrap().as_ref(), payload.as_slice());
    for (range, from, to) in [
        ("bytes=10-19", 10, 20),
        ("bytes=-5", payload.len() - 5, payload.len()),
    ] {
        let part = get_file(&alice, id, Some(range)).await;
        assert_eq!(part.status().as_u16(), 206, "{range}");
        let expect = format!("bytes {}-{}/{}", from, to - 1, payload.len());
        assert_eq!(part.headers()["content-range"], expect.as_str());
        assert_eq!(
            part.bytes().await.unwrap().as_ref(),
            &payload[from..to],
            "{range}"
        );
    }
    let beyond = get_file(&alice, id, Some("bytes=99999999-")).await;
    assert_eq!(beyond.status().as_u16(), 416);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );

    // Deactivated: no downloads but for admins; reactivated: back.
    let act = |c: &Caller<'_>, verb: &str| {
        let path = format!("/v2/images/{id}/actions/{verb}");
        let c = Caller {
            cloud,
            token: c.token.clone(),
        };
        async move { c.call(Method::POST, &path, None).await.0 }
    };
    assert_eq!(act(&alice, "deactivate").await, 204);
    assert_eq!(
        act(&alice, "deactivate").await,
        204,
        "already deactivated: no-op"
    );
    assert_eq!(get_file(&alice, id, None).await.status().as_u16(), 403);
    let (s, _, _) = patch(
        &admin,
        id,
        "application/openstack-images-v2.1-json-patch",
        json!([{"op": "replace", "path": "/visibility", "value": "public"}]),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(get_file(&admin, id, None).await.status().as_u16(), 200);
    assert_eq!(act(&alice, "reactivate").await, 204);
    assert_eq!(get_file(&alice, id, None).await.status().as_u16(), 200);
    let (s, _, _) = patch(
        &alice,
        id,
        "application/openstack-images-v2.1-json-patch",
        json!([{"op": "replace", "path": "/disk_format", "value": "qcow2"}]),
    )
    .await;
    assert_eq!(s, 403, "formats are fixed once data is there");

    let (s, _, _) = alice
        .call(Method::DELETE, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(get_file(&alice, id, None).await.status().as_u16(), 404);
}

/// Runs qemu-img (or another tool) in `dir`; its output file's bytes.
fn tool(dir: &std::path::Path, cmd: &str, args: &[&str], out: &str) -> Vec<u8> {
    let r = std::process::Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(r.status.success(), "{cmd} {args:?}: {r:?}");
    std::fs::read(dir.join(out)).unwrap()
}

/// What inspection and declared hashes refuse over HTTP, on images real
/// tools wrote; each refusal leaves the image `queued` and empty, and the
/// same image then takes good data.
#[tokio::test]
async fn refused_data_leaves_the_image_queued() {
    use sha2::Digest;
    use virga_tests::Backend;
    const OCTETS: &str = "application/octet-stream";
    let cloud = Cloud::start(Backend::Embedded).await;
    let admin = cloud.admin_token().await;
    let (alice, _) = member(&cloud, &admin, "alpha").await;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let qcow2 = tool(
        p,
        "qemu-img",
        &["create", "-q", "-f", "qcow2", "a.qcow2", "32M"],
        "a.qcow2",
    );
    tool(
        p,
        "qemu-img",
        &["create", "-q", "-f", "raw", "base.raw", "1M"],
        "base.raw",
    );
    let backed = tool(
        p,
        "qemu-img",
        &[
            "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", "b.qcow2",
        ],
        "b.qcow2",
    );
    let external = tool(
        p,
        "qemu-img",
        &[
            "create",
            "-q",
            "-f",
            "qcow2",
            "-o",
            "data_file=d.raw",
            "e.qcow2",
            "1M",
        ],
        "e.qcow2",
    );
    std::fs::create_dir(p.join("root")).unwrap();
    std::fs::write(p.join("root/readme"), "virga").unwrap();
    let iso = tool(
        p,
        "xorriso",
        &["-as", "mkisofs", "-quiet", "-o", "a.iso", "root"],
        "a.iso",
    );

    let state = |id: String| {
        let alice = Caller {
            cloud: &cloud,
            token: alice.token.clone(),
        };
        async move {
            let (_, b, _) = alice
                .call(Method::GET, &format!("/v2/images/{id}"), None)
                .await;
            b
        }
    };
    let image = |disk: &'static str| {
        let alice = Caller {
            cloud: &cloud,
            token: alice.token.clone(),
        };
        async move {
            let b = alice
                .create(json!({"name": disk, "disk_format": disk, "container_format": "bare"}))
                .await;
            b["id"].as_str().unwrap().to_owned()
        }
    };

    let q = image("qcow2").await;
    for (what, data) in [
        ("backing file", &backed),
        ("external data file", &external),
        ("iso", &iso),
    ] {
        let (status, body) = put(&alice, &q, OCTETS, data.clone(), &[]).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(body.contains(what), "{what}: {body}");
        let shown = state(q.clone()).await;
        assert_eq!(shown["status"], "queued", "{what}");
        assert_eq!(shown["size"], serde_json::Value::Null, "{what}");
    }
    // A wrong Content-MD5 (hex or base64) is refused too; a right one is not.
    let md5 = md5::Md5::digest(&qcow2);
    let (status, body) = put(
        &alice,
        &q,
        OCTETS,
        qcow2.clone(),
        &[("Content-MD5", "0".repeat(32))],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("md5"), "{body}");
    let (status, _) = put(
        &alice,
        &q,
        OCTETS,
        qcow2.clone(),
        &[("Content-MD5", "x".into())],
    )
    .await;
    assert_eq!(status, 400);
    let b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(md5)
    };
    let (status, body) = put(&alice, &q, OCTETS, qcow2.clone(), &[("Content-MD5", b64)]).await;
    assert_eq!(status, 204, "{body}");
    let shown = state(q.clone()).await;
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["virtual_size"], 32 << 20);
    assert_eq!(shown["size"], qcow2.len());
    assert_eq!(shown["os_hash_value"], hex(&sha2::Sha256::digest(&qcow2)));

    // A qcow2 hiding behind `raw` is refused; an ISO is a raw disk.
    let r = image("raw").await;
    let (status, body) = put(&alice, &r, OCTETS, backed.clone(), &[]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("qcow2"), "{body}");
    let i = image("iso").await;
    let (status, body) = put(&alice, &i, OCTETS, iso.clone(), &[]).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(state(i).await["virtual_size"], iso.len());
    cloud.stop().await;
}

async fn put(
    c: &Caller<'_>,
    id: &str,
    media: &str,
    data: Vec<u8>,
    headers: &[(&str, String)],
) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .put(format!("{}/v2/images/{id}/file", c.cloud.url("image")))
        .header("X-Auth-Token", &c.token)
        .header("Content-Type", media);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.body(data).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Quotas: image count at create, stored bytes at upload (413, and the
/// image is queued again), reported by `/v2/info/usage`; on both backends,
/// since the usage sum is SQL.
async fn quotas(backend: virga_tests::Backend) {
    const OCTETS: &str = "application/octet-stream";
    let cloud = Cloud::start_with(
        backend,
        &[
            ("VIRGA_IMAGE__QUOTA__IMAGES", "2"),
            ("VIRGA_IMAGE__QUOTA__BYTES", "3000000"),
        ],
    )
    .await;
    let admin = cloud.admin_token().await;
    let (alice, _) = member(&cloud, &admin, "alpha").await;
    let raw = json!({"disk_format": "raw", "container_format": "bare"});
    let a = alice.create(raw.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = alice.create(raw.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, body, _) = alice
        .call(Method::POST, "/v2/images", Some(raw.clone()))
        .await;
    assert_eq!(s, 413, "{body}");
    let two_mib = vec![1u8; 2 << 20];
    assert_eq!(
        put_file(&alice, &a, OCTETS, None, two_mib.clone()).await,
        204
    );
    let (status, body) = put(&alice, &b, OCTETS, two_mib.clone(), &[]).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("image_size_total"), "{body}");
    let (_, shown, _) = alice
        .call(Method::GET, &format!("/v2/images/{b}"), None)
        .await;
    assert_eq!(shown["status"], "queued");
    assert_eq!(
        put_file(&alice, &b, OCTETS, None, vec![2u8; 1000]).await,
        204,
        "what fits, fits"
    );
    let (s, usage, _) = alice.call(Method::GET, "/v2/info/usage", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        usage["usage"]["image_count_total"],
        json!({"limit": 2, "usage": 2})
    );
    assert_eq!(
        usage["usage"]["image_size_total"],
        json!({"limit": 3, "usage": 3})
    );
    // Deleting frees room.
    assert_eq!(
        alice
            .call(Method::DELETE, &format!("/v2/images/{a}"), None)
            .await
            .0,
        204
    );
    alice.create(raw).await;
    cloud.stop().await;
}

#[tokio::test]
async fn quotas_embedded() {
    quotas(virga_tests::Backend::Embedded).await;
}

#[tokio::test]
async fn quotas_distributed() {
    quotas(virga_tests::Backend::Distributed).await;
}

/// Signed images: data that matches its `img_signature` (made by OpenSSL
/// with a key whose certificate the cloud trusts) is accepted; tampered
/// data, or a signature naming an untrusted certificate, is refused; the
/// signature properties are fixed once the image has data.
#[tokio::test]
async fn signed_images_must_verify() {
    use base64::Engine;
    const OCTETS: &str = "application/octet-stream";
    let certs = tempfile::tempdir().unwrap();
    let c = certs.path();
    let uuid = "5b1c3a2e-7d4f-4e8a-9c61-0f2b8d3e4a71";
    tool(
        c,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "k.pem",
        ],
        "k.pem",
    );
    tool(
        c,
        "openssl",
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "k.pem",
            "-out",
            &format!("{uuid}.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=signer",
        ],
        &format!("{uuid}.pem"),
    );
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 239) as u8).collect();
    std::fs::write(c.join("data"), &data).unwrap();
    let sig = tool(
        c,
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-sign",
            "k.pem",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-out",
            "sig",
            "data",
        ],
        "sig",
    );
    let sig = base64::engine::general_purpose::STANDARD.encode(sig);
    let dir = c.display().to_string();
    let cloud = Cloud::start_with(
        virga_tests::Backend::Embedded,
        &[("VIRGA_IMAGE__SIGNATURE_CERTIFICATES_DIR", dir.as_str())],
    )
    .await;
    let admin = cloud.admin_token().await;
    let (alice, _) = member(&cloud, &admin, "alpha").await;
    let signed = |cert: &str| {
        json!({"disk_format": "raw", "container_format": "bare", "img_signature": sig,
               "img_signature_hash_method": "SHA-256", "img_signature_key_type": "RSA-PSS",
               "img_signature_certificate_uuid": cert})
    };
    let good = alice.create(signed(uuid)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad = alice.create(signed(uuid)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let untrusted = alice.create(signed("0000")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tampered = data.clone();
    tampered[1234] ^= 0x40;
    let (s, body) = put(&alice, &bad, OCTETS, tampered, &[]).await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("Signature verification failed"), "{body}");
    let (_, shown, _) = alice
        .call(Method::GET, &format!("/v2/images/{bad}"), None)
        .await;
    assert_eq!(shown["status"], "queued");
    let (s, body) = put(&alice, &untrusted, OCTETS, data.clone(), &[]).await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("not one this cloud trusts"), "{body}");
    let (s, body) = put(&alice, &good, OCTETS, data.clone(), &[]).await;
    assert_eq!(s, 204, "{body}");
    let (s, _, _) = patch(
        &alice,
        &good,
        "application/openstack-images-v2.1-json-patch",
        json!([{"op": "replace", "path": "/img_signature", "value": "AAAA"}]),
    )
    .await;
    assert_eq!(s, 403, "signature properties are fixed once there is data");
    cloud.stop().await;
}

/// The scale-out layout: PostgreSQL, RabbitMQ and image data in an
/// S3-compatible bucket (s3s-fs). The same data test passes, and a deleted
/// image leaves no object behind.
#[tokio::test]
async fn data_on_an_s3_store() {
    let s3 = virga_testkit::s3::S3Server::start(&["images"]).unwrap();
    let cloud = on_s3(&s3).await;
    data(&cloud).await;
    assert!(
        walk(&s3.root().join("images")).is_empty(),
        "a deleted image leaves nothing"
    );
    let admin = cloud.admin_token().await;
    let (bob, _) = member(&cloud, &admin, "beta").await;
    let img = bob
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap();
    let bytes = vec![9u8; 100_000];
    assert_eq!(
        put_file(&bob, id, "application/octet-stream", None, bytes.clone()).await,
        204
    );
    let stored = walk(&s3.root().join("images"));
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].ends_with(format!("virga/{id}")), "{stored:?}");
    assert_eq!(
        std::fs::read(&stored[0]).unwrap(),
        bytes,
        "the bucket holds the data"
    );
    cloud.stop().await;
}

/// A distributed cloud whose image data is in `s3`'s bucket `images`,
/// under the prefix `virga`.
pub(crate) async fn on_s3(s3: &virga_testkit::s3::S3Server) -> Cloud {
    Cloud::start_with(
        virga_tests::Backend::Distributed,
        &[
            ("VIRGA_IMAGE__STORE__KIND", "s3"),
            ("VIRGA_IMAGE__STORE__ENDPOINT", &s3.endpoint),
            ("VIRGA_IMAGE__STORE__BUCKET", "images"),
            ("VIRGA_IMAGE__STORE__ACCESS_KEY_ID", &s3.access_key),
            ("VIRGA_IMAGE__STORE__SECRET_ACCESS_KEY", &s3.secret_key),
            ("VIRGA_IMAGE__STORE__PREFIX", "virga"),
        ],
    )
    .await
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
