//! Glance's interoperable import against the running services: discovery,
//! `glance-direct` (stage, then import), `web-download` from a local HTTP
//! server that breaks its first transfer mid-way (the download resumes by
//! Range), refusals that leave the image where the user can retry, and an
//! import whose worker died being taken up again once its lease runs out.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use virga_testkit::files::FileServer;
use virga_tests::{Backend, Cloud};

use super::image::{Caller, member};
use super::image_data::hex;

/// The test kit's file server holding `data` as `/img`.
fn serve(data: Vec<u8>) -> FileServer {
    let server = FileServer::start();
    server.put("img", data);
    server
}

async fn put_stage(c: &Caller<'_>, id: &str, data: Vec<u8>) -> (u16, String) {
    let r = reqwest::Client::new()
        .put(format!("{}/v2/images/{id}/stage", c.cloud.url("image")))
        .header("X-Auth-Token", &c.token)
        .header("Content-Type", "application/octet-stream")
        .body(data)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn import(c: &Caller<'_>, id: &str, body: Value) -> (u16, Value) {
    let (s, b, _) = c
        .call(Method::POST, &format!("/v2/images/{id}/import"), Some(body))
        .await;
    (s, b)
}

/// Waits for the image to leave `importing`; its final state.
async fn settled(c: &Caller<'_>, id: &str) -> Value {
    for _ in 0..200 {
        let (_, b, _) = c.call(Method::GET, &format!("/v2/images/{id}"), None).await;
        if b["status"] != "importing" {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("image {id} still importing");
}

async fn tasks(c: &Caller<'_>, id: &str) -> Vec<Value> {
    let (s, b, _) = c
        .call(Method::GET, &format!("/v2/images/{id}/tasks"), None)
        .await;
    assert_eq!(s, 200, "{b}");
    b["tasks"].as_array().unwrap().clone()
}

fn payload() -> Vec<u8> {
    (0..2 * 1024 * 1024 + 13u32)
        .map(|i| (i * 7 % 253) as u8)
        .collect()
}

const LOCAL_DOWNLOADS: &[(&str, &str)] = &[
    ("VIRGA_IMAGE__WEB_DOWNLOAD__ALLOW_PRIVATE_ADDRESSES", "true"),
    ("VIRGA_IMAGE__WEB_DOWNLOAD__ALLOWED_PORTS", "[]"),
    ("VIRGA_IMAGE__WEB_DOWNLOAD__ATTEMPTS", "3"),
    ("VIRGA_IMAGE__TASK_LEASE_SECS", "2"),
];

#[tokio::test]
async fn glance_direct_stages_then_imports() {
    use sha2::Digest;
    let cloud = Cloud::start(Backend::Embedded).await;
    let admin = cloud.admin_token().await;
    let (alice, _) = member(&cloud, &admin, "alpha").await;
    let (s, info, _) = alice.call(Method::GET, "/v2/info/import", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        info["import-methods"]["value"],
        json!(["glance-direct", "web-download", "copy-image"])
    );

    let (s, created, headers) = alice
        .call(
            Method::POST,
            "/v2/images",
            Some(json!({"name": "direct", "disk_format": "raw", "container_format": "bare"})),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(
        headers["openstack-image-import-methods"],
        "glance-direct,web-download,copy-image"
    );
    let id = created["id"].as_str().unwrap();
    let (s, b) = import(&alice, id, json!({"method": {"name": "glance-direct"}})).await;
    assert_eq!(s, 409, "nothing staged yet: {b}");

    let data = payload();
    assert_eq!(put_stage(&alice, id, data.clone()).await.0, 204);
    let (_, shown, _) = alice
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(shown["status"], "uploading");
    assert_eq!(shown["os_glance_stage_host"], cloud.config.host.as_str());
    assert_eq!(
        put_stage(&alice, id, data.clone()).await.0,
        409,
        "staged once"
    );
    for (body, why) in [
        (json!({"method": {"name": "sneakernet"}}), "unknown method"),
        (json!({"method": {}}), "no name"),
        (json!({}), "no method"),
        (
            json!({"method": {"name": "glance-direct"}, "extra": 1}),
            "unknown attribute",
        ),
    ] {
        assert_eq!(import(&alice, id, body).await.0, 400, "{why}");
    }
    let (s, _) = import(
        &alice,
        id,
        json!({"method": {"name": "glance-direct"}, "stores": ["edge-1"]}),
    )
    .await;
    assert_eq!(s, 409, "no stores yet");

    let (s, b) = import(&alice, id, json!({"method": {"name": "glance-direct"}})).await;
    assert_eq!(s, 202, "{b}");
    let done = settled(&alice, id).await;
    assert_eq!(done["status"], "active", "{done}");
    assert_eq!(done["size"], data.len());
    assert_eq!(done["os_hash_value"], hex(&sha2::Sha256::digest(&data)));
    assert!(
        done.get("os_glance_stage_host").is_none(),
        "staging is cleaned up"
    );
    let t = tasks(&alice, id).await;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0]["status"], "success", "{t:?}");
    assert_eq!(t[0]["type"], "api_image_import");
    assert_eq!(
        t[0]["input"]["import_req"]["method"]["name"],
        "glance-direct"
    );
    assert_eq!(done["os_glance_import_task"], t[0]["id"]);
    let got = reqwest::Client::new()
        .get(format!("{}/v2/images/{id}/file", cloud.url("image")))
        .header("X-Auth-Token", &alice.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), data.as_slice());

    // Staged data that fails inspection at import time: the image goes
    // back to queued and the staged copy is dropped.
    let dir = tempfile::tempdir().unwrap();
    let img = |args: &[&str]| {
        let r = std::process::Command::new("qemu-img")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(r.status.success(), "{r:?}");
    };
    img(&["create", "-q", "-f", "raw", "base.raw", "1M"]);
    img(&[
        "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", "b.qcow2",
    ]);
    let backed = std::fs::read(dir.path().join("b.qcow2")).unwrap();
    let later = alice.create(json!({"name": "formats-later"})).await;
    let lid = later["id"].as_str().unwrap();
    assert_eq!(put_stage(&alice, lid, backed).await.0, 204);
    let (s, _, _) = alice
        .call(Method::PATCH, &format!("/v2/images/{lid}"), Some(json!([])))
        .await;
    assert_eq!(s, 415, "PATCH wants the json-patch media type");
    let r = reqwest::Client::new()
        .patch(format!("{}/v2/images/{lid}", cloud.url("image")))
        .header("X-Auth-Token", &alice.token)
        .header(
            "Content-Type",
            "application/openstack-images-v2.1-json-patch",
        )
        .json(&json!([
            {"op": "add", "path": "/disk_format", "value": "qcow2"},
            {"op": "add", "path": "/container_format", "value": "bare"}
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "formats may be set while staged");
    assert_eq!(
        import(&alice, lid, json!({"method": {"name": "glance-direct"}}))
            .await
            .0,
        202
    );
    let failed = settled(&alice, lid).await;
    assert_eq!(failed["status"], "queued", "{failed}");
    let t = tasks(&alice, lid).await;
    assert_eq!(t[0]["status"], "failure");
    assert!(
        t[0]["message"].as_str().unwrap().contains("backing file"),
        "{t:?}"
    );
    assert!(failed.get("os_glance_stage_host").is_none());
    cloud.stop().await;
}

#[tokio::test]
async fn web_download_resumes_a_broken_transfer_and_checks_what_it_got() {
    use sha2::Digest;
    let cloud = Cloud::start_with(Backend::Embedded, LOCAL_DOWNLOADS).await;
    let admin = cloud.admin_token().await;
    let (alice, _) = member(&cloud, &admin, "alpha").await;
    let data = payload();
    let server = serve(data.clone());
    let raw = || json!({"name": "web", "disk_format": "raw", "container_format": "bare"});

    let id = alice.create(raw()).await["id"].as_str().unwrap().to_owned();
    server.cut_next();
    let uri = format!("{}/moved/img", server.url);
    let (s, b) = import(
        &alice,
        &id,
        json!({"method": {"name": "web-download", "uri": uri}}),
    )
    .await;
    assert_eq!(s, 202, "{b}");
    let done = settled(&alice, &id).await;
    assert_eq!(done["status"], "active", "{done}");
    assert_eq!(done["os_hash_value"], hex(&sha2::Sha256::digest(&data)));
    let sent = server.sent();
    assert_eq!(
        sent,
        data.len() as u64,
        "resumed where it broke, nothing sent twice"
    );
    assert_eq!(tasks(&alice, &id).await[0]["status"], "success");

    // A declared hash the data does not have; a URL that is not there:
    // failed tasks, and the image is queued again for another try.
    for (method, why) in [
        (
            json!({"name": "web-download", "uri": format!("{}/img", server.url),
                   "validation_data": {"os_hash_algo": "sha256", "os_hash_value": "0".repeat(64)}}),
            "sha256",
        ),
        (
            json!({"name": "web-download", "uri": format!("{}/missing", server.url)}),
            "404",
        ),
    ] {
        let id = alice.create(raw()).await["id"].as_str().unwrap().to_owned();
        assert_eq!(import(&alice, &id, json!({"method": method})).await.0, 202);
        let failed = settled(&alice, &id).await;
        assert_eq!(failed["status"], "queued", "{why}: {failed}");
        let t = tasks(&alice, &id).await;
        assert_eq!(t[0]["status"], "failure", "{why}");
        assert!(
            t[0]["message"].as_str().unwrap().contains(why),
            "{why}: {t:?}"
        );
    }
    let id = alice.create(raw()).await["id"].as_str().unwrap().to_owned();
    let (s, _) = import(
        &alice,
        &id,
        json!({"method": {"name": "web-download", "uri": "file:///etc/passwd"}}),
    )
    .await;
    assert_eq!(s, 400);
    cloud.stop().await;
}

/// With the default rules, the cloud's own addresses are out of reach.
#[tokio::test]
async fn web_download_refuses_private_addresses_by_default() {
    let cloud = Cloud::start(Backend::Embedded).await;
    let admin = cloud.admin_token().await;
    let (alice, _) = member(&cloud, &admin, "alpha").await;
    let id = alice
        .create(json!({"name": "ssrf", "disk_format": "raw", "container_format": "bare"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for uri in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://10.0.0.1/",
    ] {
        let (s, b) = import(
            &alice,
            &id,
            json!({"method": {"name": "web-download", "uri": uri}}),
        )
        .await;
        assert_eq!(s, 400, "{uri}: {b}");
    }
    let (_, shown, _) = alice
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(shown["status"], "queued");
    cloud.stop().await;
}

/// An import whose worker vanished (its lease ran out while the task was
/// processing) is taken up by the service's resumer and finished.
#[tokio::test]
async fn an_orphaned_import_is_taken_up_again() {
    use virga_image::db::image;
    let cloud = Cloud::start_with(Backend::Embedded, LOCAL_DOWNLOADS).await;
    let admin = cloud.admin_token().await;
    let (alice, project) = member(&cloud, &admin, "alpha").await;
    let data = payload();
    let server = serve(data.clone());
    let id = alice
        .create(json!({"name": "orphan", "disk_format": "raw", "container_format": "bare"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // What a worker that died mid-import leaves: the image importing, its
    // task processing under a lease that has run out.
    let db = virga_db::sea_orm::Database::connect(cloud.config.database_url("image"))
        .await
        .unwrap();
    let input = json!({"image_id": id, "import_req": {"method": {"name": "web-download", "uri": format!("{}/img", server.url)}}});
    assert!(
        image::set_status_if(&db, &id, "queued", "importing")
            .await
            .unwrap()
    );
    orphan(
        &db,
        "6d7f0d8e-0000-4000-8000-000000000001",
        &id,
        input,
        project,
    )
    .await;
    let mut status = Value::Null;
    for _ in 0..100 {
        let (_, b, _) = alice
            .call(Method::GET, &format!("/v2/images/{id}"), None)
            .await;
        status = b["status"].clone();
        if status == "active" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "active");
    let t = tasks(&alice, &id).await;
    assert_eq!(t[0]["status"], "success", "{t:?}");
    cloud.stop().await;
}

/// What a worker that died leaves of its task: processing, under a lease
/// that ran out an hour ago.
pub(crate) async fn orphan(
    db: &virga_db::sea_orm::DatabaseConnection,
    task_id: &str,
    image_id: &str,
    input: Value,
    project: String,
) {
    use virga_image::db::task;
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    task::create(
        db,
        task::Model {
            id: task_id.into(),
            image_id: image_id.into(),
            kind: "api_image_import".into(),
            status: task::PROCESSING.into(),
            input: input.to_string(),
            result: None,
            message: "Copied 1 MiB".into(),
            owner: Some(project),
            user_id: None,
            request_id: None,
            host: None,
            lease_until: Some(past),
            created_at: past,
            updated_at: past,
        },
    )
    .await
    .unwrap();
}
