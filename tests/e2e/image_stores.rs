//! Edge sites' image stores (Glance's multi-store, API v2.8–2.10): store
//! discovery, `copy-image` to named sites or all of them, each site's state
//! while the copy travels, `all_stores_must_succeed` on a site that fails,
//! deleting one site's copy, and a copy whose worker died taken up again.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::{Backend, Cloud};

use super::image::{Caller, member};
use super::image_data::put_file;

/// Two working sites and one whose store cannot be written.
fn sites(dir: &Path) -> Vec<(String, String)> {
    vec![
        (
            "VIRGA_IMAGE__STORES__EDGE1__PATH".into(),
            dir.join("edge1").display().to_string(),
        ),
        (
            "VIRGA_IMAGE__STORES__EDGE1__DESCRIPTION".into(),
            "MEC node, Shenzhen".into(),
        ),
        (
            "VIRGA_IMAGE__STORES__EDGE2__PATH".into(),
            dir.join("edge2").display().to_string(),
        ),
        // A file where the store's directory should be: every write fails.
        (
            "VIRGA_IMAGE__STORES__BROKEN__PATH".into(),
            dir.join("not-a-dir/store").display().to_string(),
        ),
        // Orphaned tasks are looked for every second.
        ("VIRGA_IMAGE__TASK_LEASE_SECS".into(), "2".into()),
    ]
}

async fn start(backend: Backend, dir: &Path) -> Cloud {
    std::fs::write(dir.join("not-a-dir"), b"x").unwrap();
    let env = sites(dir);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Cloud::start_with(backend, &env).await
}

async fn show(c: &Caller<'_>, id: &str) -> Value {
    c.call(Method::GET, &format!("/v2/images/{id}"), None)
        .await
        .1
}

async fn copies(c: &Caller<'_>, id: &str) -> Vec<(String, String)> {
    let (s, b, _) = c
        .call(Method::GET, &format!("/v2/images/{id}/stores"), None)
        .await;
    assert_eq!(s, 200, "{b}");
    b["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) async fn import(c: &Caller<'_>, id: &str, body: Value) -> (u16, Value) {
    let (s, b, _) = c
        .call(Method::POST, &format!("/v2/images/{id}/import"), Some(body))
        .await;
    (s, b)
}

/// Waits until no site copy of the image is in progress; its tasks.
pub(crate) async fn settled(c: &Caller<'_>, id: &str) -> Vec<Value> {
    for _ in 0..200 {
        let (_, t, _) = c
            .call(Method::GET, &format!("/v2/images/{id}/tasks"), None)
            .await;
        let tasks = t["tasks"].as_array().cloned().unwrap_or_default();
        let busy = tasks
            .iter()
            .any(|t| t["status"] == "pending" || t["status"] == "processing");
        if !busy
            && show(c, id)
                .await
                .get("os_glance_importing_to_stores")
                .is_none()
        {
            return tasks;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the copy never settled: {}", show(c, id).await);
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn sites_story(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let cloud = start(backend, dir.path()).await;
    let admin = Caller {
        cloud: &cloud,
        token: cloud.admin_token().await,
    };
    let (alice, _) = member(&cloud, &admin.token, "alpha").await;

    let (s, info, _) = alice.call(Method::GET, "/v2/info/stores", None).await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = info["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["central", "broken", "edge1", "edge2"], "{info}");
    assert_eq!(info["stores"][0]["default"], true);
    assert_eq!(info["stores"][2]["description"], "MEC node, Shenzhen");
    let (s, _, _) = alice
        .call(Method::GET, "/v2/info/stores/detail", None)
        .await;
    assert_eq!(s, 403, "details are for admins");
    let (s, detail, _) = admin
        .call(Method::GET, "/v2/info/stores/detail", None)
        .await;
    assert_eq!((s, &detail["stores"][1]["type"]), (200, &json!("file")));

    let (s, img, headers) = alice
        .call(
            Method::POST,
            "/v2/images",
            Some(json!({"name": "base", "disk_format": "raw", "container_format": "bare"})),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(
        headers["openstack-image-store-ids"],
        "central,broken,edge1,edge2"
    );
    let id = img["id"].as_str().unwrap().to_owned();
    let copy = json!({"method": {"name": "copy-image"}, "stores": ["edge1", "edge2"]});
    assert_eq!(
        import(&alice, &id, copy.clone()).await.0,
        409,
        "nothing to copy yet"
    );
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    assert_eq!(
        put_file(&alice, &id, "application/octet-stream", None, data.clone()).await,
        204
    );
    assert_eq!(show(&alice, &id).await["stores"], "central");

    // Bad requests: an unknown site, both ways of naming sites, no sites.
    let unknown = json!({"method": {"name": "copy-image"}, "stores": ["edge9"]});
    assert_eq!(import(&alice, &id, unknown).await.0, 409);
    let both = json!({"method": {"name": "copy-image"}, "stores": ["edge1"], "all_stores": true});
    assert_eq!(import(&alice, &id, both).await.0, 400);
    assert_eq!(
        import(&alice, &id, json!({"method": {"name": "copy-image"}}))
            .await
            .0,
        409
    );

    assert_eq!(import(&alice, &id, copy.clone()).await.0, 202);
    let tasks = settled(&alice, &id).await;
    assert_eq!(tasks.last().unwrap()["status"], "success", "{tasks:?}");
    let shown = show(&alice, &id).await;
    assert_eq!(shown["stores"], "central,edge1,edge2", "{shown}");
    assert_eq!(shown["status"], "active", "the image stayed usable");
    assert_eq!(
        copies(&alice, &id).await,
        pairs(&[
            ("central", "active"),
            ("edge1", "active"),
            ("edge2", "active")
        ])
    );
    for site in ["edge1", "edge2"] {
        assert!(
            std::fs::read(dir.path().join(site).join(&id)).unwrap() == data,
            "{site} holds the image"
        );
    }
    assert_eq!(
        import(&alice, &id, copy).await.0,
        409,
        "already everywhere asked"
    );

    // A site that fails: alone, the copy fails and says where and why.
    let all = json!({"method": {"name": "copy-image"}, "all_stores": true});
    assert_eq!(import(&alice, &id, all).await.0, 202);
    let tasks = settled(&alice, &id).await;
    assert_eq!(tasks.last().unwrap()["status"], "failure", "{tasks:?}");
    let shown = show(&alice, &id).await;
    assert_eq!(shown["os_glance_failed_import"], "broken", "{shown}");
    assert_eq!(shown["stores"], "central,edge1,edge2");
    let (_, detail, _) = alice
        .call(Method::GET, &format!("/v2/images/{id}/stores"), None)
        .await;
    let broken = detail["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "broken")
        .unwrap()
        .clone();
    assert_eq!(broken["status"], "failed");
    assert!(
        broken["reason"].as_str().unwrap().contains("store failed"),
        "{broken}"
    );

    // With another site: all_stores_must_succeed undoes the good copy...
    let second = alice
        .create(json!({"name": "second", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let id2 = second["id"].as_str().unwrap().to_owned();
    assert_eq!(
        put_file(
            &alice,
            &id2,
            "application/octet-stream",
            None,
            vec![7u8; 10_000]
        )
        .await,
        204
    );
    let strict = json!({"method": {"name": "copy-image"}, "stores": ["edge1", "broken"]});
    assert_eq!(import(&alice, &id2, strict).await.0, 202);
    settled(&alice, &id2).await;
    assert_eq!(show(&alice, &id2).await["stores"], "central");
    assert!(
        !dir.path().join("edge1").join(&id2).exists(),
        "the good copy was undone"
    );
    // ...and without it the good copy stays.
    let lenient = json!({"method": {"name": "copy-image"}, "stores": ["edge1", "broken"],
        "all_stores_must_succeed": false});
    assert_eq!(import(&alice, &id2, lenient).await.0, 202);
    let tasks = settled(&alice, &id2).await;
    assert_eq!(tasks.last().unwrap()["status"], "success", "{tasks:?}");
    assert_eq!(show(&alice, &id2).await["stores"], "central,edge1");

    // One site's copy goes (admin only); the central copy never alone.
    let path = format!("/v2/stores/edge1/{id}");
    assert_eq!(alice.call(Method::DELETE, &path, None).await.0, 403);
    assert_eq!(admin.call(Method::DELETE, &path, None).await.0, 204);
    assert_eq!(admin.call(Method::DELETE, &path, None).await.0, 404);
    assert_eq!(
        admin
            .call(Method::DELETE, &format!("/v2/stores/central/{id}"), None)
            .await
            .0,
        409
    );
    assert!(!dir.path().join("edge1").join(&id).exists());
    assert_eq!(show(&alice, &id).await["stores"], "central,edge2");

    // Deleting the image removes every site's copy.
    assert_eq!(
        alice
            .call(Method::DELETE, &format!("/v2/images/{id}"), None)
            .await
            .0,
        204
    );
    assert!(!dir.path().join("edge2").join(&id).exists());
    cloud.stop().await;
}

#[tokio::test]
async fn sites_embedded() {
    sites_story(Backend::Embedded).await;
}

#[tokio::test]
async fn sites_distributed() {
    sites_story(Backend::Distributed).await;
}

/// The centre stopped while a copy was under way: its task is left
/// processing under a lease that ran out, the site copying with half a
/// file. The resumer takes the task up and the site ends with the image.
#[tokio::test]
async fn a_copy_cut_off_by_a_stop_resumes() {
    use virga_image::db::location;
    let dir = tempfile::tempdir().unwrap();
    let cloud = start(Backend::Embedded, dir.path()).await;
    let admin = cloud.admin_token().await;
    let (alice, project) = member(&cloud, &admin, "alpha").await;
    let id = alice
        .create(json!({"name": "cut", "disk_format": "raw", "container_format": "bare"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = vec![5u8; 2_000_000];
    assert_eq!(
        put_file(&alice, &id, "application/octet-stream", None, data.clone()).await,
        204
    );

    let db = virga_db::sea_orm::Database::connect(cloud.config.database_url("image"))
        .await
        .unwrap();
    let t = "6d7f0d8e-0000-4000-8000-0000000000c0";
    location::set(&db, &id, "edge1", location::COPYING, None, Some(t))
        .await
        .unwrap();
    std::fs::create_dir_all(dir.path().join("edge1")).unwrap();
    std::fs::write(
        dir.path().join("edge1").join(format!(".{id}.dead.partial")),
        &data[..1000],
    )
    .unwrap();
    let input = json!({"image_id": id, "import_req": {"method": {"name": "copy-image"},
        "stores": ["edge1"], "targets": ["edge1"], "all_stores_must_succeed": true}});
    super::image_import::orphan(&db, t, &id, input, project).await;
    let tasks = settled(&alice, &id).await;
    assert_eq!(tasks[0]["status"], "success", "{tasks:?}");
    assert_eq!(
        copies(&alice, &id).await,
        pairs(&[("central", "active"), ("edge1", "active")])
    );
    assert!(std::fs::read(dir.path().join("edge1").join(&id)).unwrap() == data);
    cloud.stop().await;
}
