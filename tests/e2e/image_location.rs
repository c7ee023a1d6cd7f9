//! Images reaching edge nodes: the image service's service-only
//! `GET /v2/images/{id}/locations` (a site's store at the URL its nodes
//! use, the centre as a signed URL), signed downloads refused when
//! tampered with, expired or for a deactivated image, and an agent that
//! builds from its site's store, builds again from its cache when nothing
//! can be fetched (a cut-off site), and pre-fetches on request.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use virga_agent::BusSource;
use virga_agent::driver::simulated::{SimConfig, Simulated};
use virga_protocol::agent::{
    AgentCommand, AgentEvent, ImageRef, ImageSource, InstanceState, Power,
};
use virga_tests::{Backend, Cloud};

use super::agent::{TestAgent, agent_config, ensure, events, registered, reported, send, spec};
use super::image::{Caller, member, with_role};
use super::image_data::put_file;
use super::image_stores::{import, settled};

async fn uploaded(alice: &Caller<'_>, name: &str, data: &[u8]) -> Value {
    let img = alice
        .create(json!({"name": name, "disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap();
    let put = put_file(alice, id, "application/octet-stream", None, data.to_vec()).await;
    assert_eq!(put, 204);
    alice
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await
        .1
}

async fn locations(c: &Caller<'_>, id: &str) -> (u16, Value) {
    let (s, b, _) = c
        .call(Method::GET, &format!("/v2/images/{id}/locations"), None)
        .await;
    (s, b)
}

/// What compute will put in an ensure: the image as the node cache knows it.
fn image_ref(img: &Value, locations: &Value) -> ImageRef {
    ImageRef {
        id: img["id"].as_str().unwrap().into(),
        disk_format: "raw".into(),
        sha256: img["os_hash_value"].as_str().map(Into::into),
        arch: None,
        size: img["size"].as_u64(),
        sources: locations
            .as_array()
            .unwrap()
            .iter()
            .map(|l| ImageSource {
                store: l["metadata"]["store"].as_str().unwrap().into(),
                url: l["url"].as_str().unwrap().into(),
            })
            .collect(),
    }
}

async fn get(url: &str, range: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
}

/// Waits for the agent's answer to a pre-fetch of `image`.
async fn image_event(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<AgentEvent>,
    image: &str,
) -> (bool, Option<String>) {
    let wait = async {
        loop {
            if let Some(AgentEvent::Image {
                image: i,
                held,
                reason,
                ..
            }) = rx.recv().await
                && i == image
            {
                return (held, reason);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .expect("the agent answers a pre-fetch")
}

fn held_file(dir: &Path, sha: &str) -> std::path::PathBuf {
    dir.join("instances/_cache/sha256").join(sha)
}

/// A cloud with two edge sites' stores under `sites`: edge1's nodes mount
/// theirs (`node_url`), edge2's fetch from the centre.
async fn start(backend: Backend, sites: &Path) -> Cloud {
    let edge1 = sites.join("edge1").display().to_string();
    let edge1_url = format!("file://{edge1}");
    let edge2 = sites.join("edge2").display().to_string();
    let env = [
        ("VIRGA_IMAGE__STORES__EDGE1__PATH", edge1.as_str()),
        ("VIRGA_IMAGE__STORES__EDGE1__NODE_URL", edge1_url.as_str()),
        ("VIRGA_IMAGE__STORES__EDGE2__PATH", edge2.as_str()),
    ];
    Cloud::start_with(backend, &env).await
}

#[tokio::test]
async fn nodes_fetch_images_from_their_site_and_keep_them_embedded() {
    let sites = tempfile::tempdir().unwrap();
    let cloud = start(Backend::Embedded, sites.path()).await;
    story(&cloud, sites.path()).await;
    cloud.stop().await;
}

#[tokio::test]
async fn nodes_fetch_images_from_their_site_and_keep_them_distributed() {
    let sites = tempfile::tempdir().unwrap();
    let cloud = start(Backend::Distributed, sites.path()).await;
    story(&cloud, sites.path()).await;
    cloud.stop().await;
}

async fn story(cloud: &Cloud, sites: &Path) {
    let admin = Caller {
        cloud,
        token: cloud.admin_token().await,
    };
    let (alice, _) = member(cloud, &admin.token, "alpha").await;
    let (service, _) = with_role(cloud, &admin.token, "nova", "service").await;
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 249) as u8).collect();
    let img = uploaded(&alice, "base", &data).await;
    let id = img["id"].as_str().unwrap().to_owned();
    let copy = json!({"method": {"name": "copy-image"}, "stores": ["edge1", "edge2"]});
    assert_eq!(import(&alice, &id, copy).await.0, 202);
    settled(&alice, &id).await;

    // Services only, as Glance: not the owner, not even an admin.
    assert_eq!(locations(&alice, &id).await.0, 403);
    assert_eq!(locations(&admin, &id).await.0, 403);
    let (s, _) = locations(&service, "00000000-0000-4000-8000-000000000000").await;
    assert_eq!(s, 404);
    let (s, locs) = locations(&service, &id).await;
    assert_eq!(s, 200, "{locs}");
    // edge1 as its nodes read it, edge2 (no node URL) left out, the centre last.
    let stores: Vec<&str> = locs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["metadata"]["store"].as_str().unwrap())
        .collect();
    assert_eq!(stores, ["edge1", "central"], "{locs}");
    assert_eq!(
        locs[0]["url"],
        format!("file://{}/edge1/{id}", sites.display())
    );
    let signed = locs[1]["url"].as_str().unwrap().to_owned();
    assert!(signed.starts_with(cloud.url("image")), "{signed}");

    // The signed URL needs no token, serves ranges, and nothing else.
    assert_eq!(get(&signed, None).await, (200, data.clone()));
    assert_eq!(
        get(&signed, Some("bytes=100-199")).await,
        (206, data[100..200].to_vec())
    );
    let tampered = format!("{}0", &signed[..signed.len() - 1]);
    let tampered = if tampered == signed {
        format!("{}1", &signed[..signed.len() - 1])
    } else {
        tampered
    };
    assert_eq!(get(&tampered, None).await.0, 403);
    let later = with_expiry(&signed, "99999999999");
    assert_eq!(
        get(&later, None).await.0,
        403,
        "a longer life is not signed"
    );
    let past = with_expiry(&signed, "1000");
    let (s, body) = get(&past, None).await;
    assert_eq!(s, 403);
    assert!(String::from_utf8_lossy(&body).contains("expired"));
    let other = uploaded(&alice, "other", b"other data").await;
    let other_id = other["id"].as_str().unwrap();
    let (s, third, _) = service
        .call(
            Method::POST,
            "/v2/images",
            Some(json!({"name": "third", "disk_format": "raw", "container_format": "bare"})),
        )
        .await;
    assert_eq!(s, 201, "{third}");
    assert_eq!(get(&signed.replace(&id, other_id), None).await.0, 403);

    // A node of edge1: builds from its site's store.
    let dir = tempfile::tempdir().unwrap();
    let (_sub, mut rx) = events(&cloud.bus).await;
    let sim = Simulated::new(SimConfig::default());
    let agent = TestAgent::start(
        BusSource::Ready(cloud.bus.clone()),
        dir.path(),
        sim.clone(),
        agent_config("edge1"),
    )
    .await;
    let node = agent.running.node.clone();
    registered(cloud, &node).await;
    let sha = img["os_hash_value"].as_str().unwrap().to_owned();
    let mut s1 = spec("a1000000-0000-4000-8000-000000000001", &id, 256);
    s1.image = image_ref(&img, &locs);
    s1.image.sources[1].url = tampered.clone(); // The centre refuses: edge1's copy is used.
    send(&cloud.bus, &node, &ensure(1, &s1, Power::Running)).await;
    reported(&mut rx, &s1.uuid, InstanceState::Running).await;
    assert_eq!(std::fs::read(held_file(dir.path(), &sha)).unwrap(), data);

    // Cut off: the site's copy gone, the centre refusing. A new instance
    // of the same image still builds, from the node's cache.
    let path = format!("/v2/stores/edge1/{id}");
    assert_eq!(admin.call(Method::DELETE, &path, None).await.0, 204);
    let mut s2 = spec("a2000000-0000-4000-8000-000000000002", &id, 256);
    s2.image = s1.image.clone();
    send(&cloud.bus, &node, &ensure(1, &s2, Power::Running)).await;
    reported(&mut rx, &s2.uuid, InstanceState::Running).await;

    // A corrupt copy is never booted: with nothing to fetch from, the build fails and says so.
    send(
        &cloud.bus,
        &node,
        &AgentCommand::Delete {
            request_id: "d1".into(),
            instance: s1.uuid.clone(),
            generation: 2,
        },
    )
    .await;
    std::fs::write(held_file(dir.path(), &sha), vec![0u8; data.len()]).unwrap();
    let mut s3 = spec("a3000000-0000-4000-8000-000000000003", &id, 256);
    s3.image = s1.image.clone();
    send(&cloud.bus, &node, &ensure(1, &s3, Power::Running)).await;
    let why = reported(&mut rx, &s3.uuid, InstanceState::Error)
        .await
        .unwrap();
    assert!(why.contains("could not be fetched"), "{why}");
    // Given the centre's signed URL, the next generation fetches it again.
    s3.image.sources[1].url = signed.clone();
    send(&cloud.bus, &node, &ensure(2, &s3, Power::Running)).await;
    reported(&mut rx, &s3.uuid, InstanceState::Running).await;
    assert_eq!(std::fs::read(held_file(dir.path(), &sha)).unwrap(), data);

    // Pre-fetch: the other image arrives before any instance needs it, and
    // the node's heartbeats say it holds it; an unfetchable one is refused.
    let (_, other_locs) = locations(&service, other_id).await;
    let fetch = AgentCommand::FetchImage {
        request_id: "pre-1".into(),
        image: image_ref(&other, &other_locs),
    };
    send(&cloud.bus, &node, &fetch).await;
    assert_eq!(image_event(&mut rx, other_id).await, (true, None));
    let mut view = Value::Null;
    for _ in 0..100 {
        view = registered(cloud, &node).await;
        if view["images"].as_array().is_some_and(|a| a.len() == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut want = vec![id.clone(), other_id.to_owned()];
    want.sort();
    assert_eq!(view["images"], json!(want), "{view}");
    let mut bad = image_ref(&other, &other_locs);
    bad.id = "not-held".into();
    bad.sha256 = Some("0".repeat(64));
    send(
        &cloud.bus,
        &node,
        &AgentCommand::FetchImage {
            request_id: "pre-2".into(),
            image: bad,
        },
    )
    .await;
    let (held, why) = image_event(&mut rx, "not-held").await;
    assert!(!held);
    assert!(why.unwrap().contains("could not be fetched"));

    // Deactivated: no node may download it any more.
    let deactivate = format!("/v2/images/{id}/actions/deactivate");
    assert_eq!(alice.call(Method::POST, &deactivate, None).await.0, 204);
    assert_eq!(get(&signed, None).await.0, 403);
    agent.stop().await;
}

/// `signed` with its `expires` set to `to` (the signature no longer
/// matches either; an expired URL is refused first, saying so).
fn with_expiry(signed: &str, to: &str) -> String {
    let (head, tail) = signed.split_once("expires=").unwrap();
    let rest = tail.split_once('&').unwrap().1;
    format!("{head}expires={to}&{rest}")
}

// Quotas a tenant would hit at once, which a service's own images ignore.
crate::on_both_backends!(with &[("VIRGA_IMAGE__QUOTA__IMAGES", "1"), ("VIRGA_IMAGE__QUOTA__BYTES", "1000")]; signed_uploads);

async fn put_signed(url: &str, data: &[u8]) -> u16 {
    reqwest::Client::new()
        .put(url)
        .header("Content-Type", "application/octet-stream")
        .body(data.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A node sends a server's disk (a move) into an image of a service's
/// own: services make it, hidden, and get a signed upload URL for it
/// (nobody else does); the URL needs no token, fills only that queued
/// image, once, and is refused when tampered with or when a download's.
async fn signed_uploads(cloud: &Cloud) {
    let admin = Caller {
        cloud,
        token: cloud.admin_token().await,
    };
    let (alice, _) = member(cloud, &admin.token, "alpha").await;
    let (service, _) = with_role(cloud, &admin.token, "nova", "service").await;
    let (s, img, _) = service
        .call(
            Method::POST,
            "/v2/images",
            Some(json!({"name": "vm-resize", "disk_format": "raw", "container_format": "bare", "os_hidden": true})),
        )
        .await;
    assert_eq!(s, 201, "{img}");
    let id = img["id"].as_str().unwrap().to_owned();
    let path = format!("/v2/images/{id}/upload-url");
    assert_eq!(alice.call(Method::POST, &path, None).await.0, 404);
    assert_eq!(admin.call(Method::POST, &path, None).await.0, 403);
    let (s, b, _) = service.call(Method::POST, &path, None).await;
    assert_eq!(s, 200, "{b}");
    let url = b["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(cloud.url("image")), "{url}");
    assert!(b["expires_at"].as_str().unwrap().ends_with('Z'), "{b}");

    let tampered = with_expiry(&url, "99999999999");
    assert_eq!(put_signed(&tampered, b"disk").await, 403);
    let disk: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(put_signed(&url, &disk).await, 204);
    let (_, b, _) = service
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(
        (&b["status"], &b["size"]),
        (&json!("active"), &json!(100_000)),
        "{b}"
    );
    assert_eq!(put_signed(&url, &disk).await, 409, "only a queued image");
    assert_eq!(service.call(Method::POST, &path, None).await.0, 409);
    // A download URL does not upload.
    let (_, locs) = locations(&service, &id).await;
    let down = locs[0]["url"].as_str().unwrap().to_owned();
    assert_eq!(get(&down, None).await, (200, disk.clone()));
    let (_, other, _) = service
        .call(
            Method::POST,
            "/v2/images",
            Some(json!({"name": "other", "disk_format": "raw", "container_format": "bare"})),
        )
        .await;
    let other_id = other["id"].as_str().unwrap();
    let (s, third, _) = service
        .call(
            Method::POST,
            "/v2/images",
            Some(json!({"name": "third", "disk_format": "raw", "container_format": "bare"})),
        )
        .await;
    assert_eq!(s, 201, "{third}");
    assert_eq!(put_signed(&down.replace(&id, other_id), b"x").await, 403);
    assert_eq!(put_signed(&url.replace(&id, other_id), b"x").await, 403);
    let gone = service
        .call(Method::DELETE, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(gone.0, 204);

    // Nor may a service fill a tenant's image by URL (no quota would hold).
    let (_, theirs, _) = alice
        .call(
            Method::POST,
            "/v2/images",
            Some(json!({"name": "t", "disk_format": "raw", "container_format": "bare"})),
        )
        .await;
    let theirs = theirs["id"].as_str().unwrap();
    let path = format!("/v2/images/{theirs}/upload-url");
    assert_eq!(service.call(Method::POST, &path, None).await.0, 403);

    // The service's images (three, 100 kB) counted against no quota; a
    // tenant's still are (one image here, which alice has).
    let mine = json!({"name": "a", "disk_format": "raw", "container_format": "bare"});
    let (s, b, _) = alice.call(Method::POST, "/v2/images", Some(mine)).await;
    assert_eq!(s, 413, "{b}");
}
