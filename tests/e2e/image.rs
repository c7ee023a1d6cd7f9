//! `/v2/images` metadata with identity's real tokens, on the embedded and
//! the distributed (PostgreSQL + RabbitMQ) backends: Glance's shapes and
//! defaults, read-only and reserved attributes, who sees which visibility,
//! filters, sorting and pagination, and deletion rules.

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::Cloud;

/// Stamps `<name>::embedded` and `<name>::distributed` tests for each
/// `async fn <name>(cloud: &Cloud)` listed.
#[macro_export]
macro_rules! on_both_backends {
    // With configuration overrides (`VIRGA_*` variables) for both clouds.
    (with $overrides:expr; $($name:ident),* $(,)?) => {$(
        mod $name {
            use virga_tests::{Backend, Cloud};
            #[tokio::test]
            async fn embedded() {
                let cloud = Cloud::start_with(Backend::Embedded, $overrides).await;
                super::$name(&cloud).await;
                cloud.stop().await;
            }
            #[tokio::test]
            async fn distributed() {
                let cloud = Cloud::start_with(Backend::Distributed, $overrides).await;
                super::$name(&cloud).await;
                cloud.stop().await;
            }
        }
    )*};
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use virga_tests::{Backend, Cloud};
            #[tokio::test]
            async fn embedded() {
                let cloud = Cloud::start(Backend::Embedded).await;
                super::$name(&cloud).await;
                cloud.stop().await;
            }
            #[tokio::test]
            async fn distributed() {
                let cloud = Cloud::start(Backend::Distributed).await;
                super::$name(&cloud).await;
                cloud.stop().await;
            }
        }
    )*};
}

on_both_backends!(images, changes, sharing);

pub(crate) struct Caller<'a> {
    pub cloud: &'a Cloud,
    pub token: String,
}

impl Caller<'_> {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", self.cloud.url("image")))
            .header("X-Auth-Token", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            headers,
        )
    }

    pub async fn create(&self, body: Value) -> Value {
        let (s, b, _) = self.call(Method::POST, "/v2/images", Some(body)).await;
        assert_eq!(s, 201, "{b}");
        b
    }

    async fn names(&self, query: &str) -> Vec<String> {
        let (s, b, _) = self
            .call(Method::GET, &format!("/v2/images{query}"), None)
            .await;
        assert_eq!(s, 200, "{query}: {b}");
        b["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

/// A project with a member user, through identity's API; the member's caller.
pub(crate) async fn member<'a>(cloud: &'a Cloud, admin: &str, name: &str) -> (Caller<'a>, String) {
    with_role(cloud, admin, name, "member").await
}

/// A new project `name` with a user `<name>-user` holding `role` in it.
pub(crate) async fn with_role<'a>(
    cloud: &'a Cloud,
    admin: &str,
    name: &str,
    role: &str,
) -> (Caller<'a>, String) {
    let (token, project) = cloud.user_with_role(admin, name, role).await;
    (Caller { cloud, token }, project)
}

async fn images(cloud: &Cloud) {
    let admin_token = cloud.admin_token().await;
    let admin = Caller {
        cloud,
        token: admin_token.clone(),
    };
    let (alice, alice_project) = member(cloud, &admin_token, "alpha").await;
    let (bob, _) = member(cloud, &admin_token, "beta").await;

    // Create: Glance's defaults and shape.
    let id = "b2173dd3-7ad6-4362-baa6-a68bce3565cb";
    let (s, img, headers) = alice
        .call(
            Method::POST,
            "/v2/images",
            Some(json!({"id": id, "name": "Ubuntu",
            "disk_format": "raw", "container_format": "bare", "os_distro": "ubuntu"})),
        )
        .await;
    assert_eq!(s, 201, "{img}");
    assert_eq!(
        headers["location"],
        format!("{}/v2/images/{id}", cloud.url("image")).as_str()
    );
    for (k, v) in [
        ("status", json!("queued")),
        ("visibility", json!("shared")),
        ("protected", json!(false)),
        ("os_hidden", json!(false)),
        ("owner", json!(alice_project)),
        ("size", Value::Null),
        ("virtual_size", Value::Null),
        ("checksum", Value::Null),
        ("os_hash_algo", Value::Null),
        ("os_hash_value", Value::Null),
        ("min_disk", json!(0)),
        ("min_ram", json!(0)),
        ("tags", json!([])),
        ("os_distro", json!("ubuntu")),
        ("self", json!(format!("/v2/images/{id}"))),
        ("file", json!(format!("/v2/images/{id}/file"))),
        ("schema", json!("/v2/schemas/image")),
    ] {
        assert_eq!(img[k], v, "{k} in {img}");
    }
    assert_eq!(img["created_at"], img["updated_at"]);
    assert!(img["created_at"].as_str().unwrap().ends_with('Z'));

    // Bad input, each with its status; nothing is stored.
    for (body, status) in [
        (json!({"status": "active"}), 403),
        (json!({"checksum": "x"}), 403),
        (json!({"locations": []}), 403),
        (json!({"os_glance_x": "y"}), 403),
        (json!({"disk_format": "exe"}), 400),
        (json!({"visibility": "everyone"}), 400),
        (json!({"min_ram": -1}), 400),
        (json!({"os_distro": 7}), 400),
        (json!({"id": "not-a-uuid"}), 400),
        (json!({"id": id}), 409),
        (json!({"name": "pub", "visibility": "public"}), 403),
        (json!({"name": "theirs", "owner": "someone-else"}), 403),
    ] {
        let (s, b, _) = alice
            .call(Method::POST, "/v2/images", Some(body.clone()))
            .await;
        assert_eq!(s, status, "{body}: {b}");
    }
    let (s, _, _) = alice
        .call(Method::POST, "/v2/images", Some(json!(["x"])))
        .await;
    assert_eq!(s, 400);

    // Visibility: admin publishes; alice's private and community images.
    let public = admin
        .create(json!({"name": "cirros", "visibility": "public", "tags": ["base"]}))
        .await;
    alice
        .create(json!({"name": "secret", "visibility": "private", "tags": ["base", "x"]}))
        .await;
    alice
        .create(json!({"name": "shared-out", "visibility": "community"}))
        .await;
    alice
        .create(json!({"name": "hidden", "os_hidden": true}))
        .await;
    let mut mine = alice.names("?sort=name:asc").await;
    mine.sort();
    assert_eq!(mine, ["Ubuntu", "cirros", "secret", "shared-out"]);
    assert_eq!(bob.names("").await, ["cirros"]);
    assert_eq!(bob.names("?visibility=community").await, ["shared-out"]);
    assert_eq!(alice.names("?os_hidden=true").await, ["hidden"]);
    let (s, _, _) = bob
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(s, 404, "a shared image without membership is invisible");
    let (s, b, _) = bob
        .call(
            Method::GET,
            &format!("/v2/images/{}", public["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!((s, &b["name"]), (200, &json!("cirros")));

    // Filters and sorting.
    assert_eq!(alice.names("?tag=base&tag=x").await, ["secret"]);
    assert_eq!(
        alice.names("?sort=name:asc&tag=base").await,
        ["cirros", "secret"]
    );
    assert_eq!(
        alice
            .names("?name=in:Ubuntu,secret&sort_key=name&sort_dir=desc")
            .await,
        ["secret", "Ubuntu"]
    );
    assert_eq!(alice.names("?os_distro=ubuntu").await, ["Ubuntu"]);
    assert_eq!(alice.names("?visibility=private").await, ["secret"]);
    assert_eq!(
        alice
            .names("?created_at=gt:2000-01-01T00:00:00Z&name=cirros")
            .await,
        ["cirros"]
    );
    assert!(
        alice
            .names("?created_at=lt:2000-01-01T00:00:00Z")
            .await
            .is_empty()
    );
    for bad in [
        "?sort=name:sideways",
        "?sort_key=colour",
        "?visibility=x",
        "?limit=-1",
        "?protected=maybe",
        "?changes-since=2000-01-01T00:00:00Z",
        "?name=gt:x",
        "?sort=name&sort_key=id",
        "?marker=00000000-0000-0000-0000-000000000000",
    ] {
        let (s, b, _) = alice
            .call(Method::GET, &format!("/v2/images{bad}"), None)
            .await;
        assert_eq!(s, 400, "{bad}: {b}");
    }

    // Pagination: every visible image once, in order, through `next`.
    let (_, page, _) = alice
        .call(Method::GET, "/v2/images?limit=2&sort=name:asc", None)
        .await;
    assert_eq!(page["first"], "/v2/images?limit=2&sort=name%3Aasc");
    let mut seen: Vec<String> = Vec::new();
    let mut page = page;
    loop {
        seen.extend(
            page["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_owned()),
        );
        let Some(next) = page["next"].as_str() else {
            break;
        };
        page = alice.call(Method::GET, next, None).await.1;
    }
    assert_eq!(seen, ["Ubuntu", "cirros", "secret", "shared-out"]);

    // Deletion: not another project's, not a protected one.
    let pid = public["id"].as_str().unwrap();
    let (s, _, _) = bob
        .call(Method::DELETE, &format!("/v2/images/{pid}"), None)
        .await;
    assert_eq!(s, 403);
    let guarded = alice
        .create(json!({"name": "guarded", "protected": true}))
        .await;
    let gid = guarded["id"].as_str().unwrap();
    let (s, b, _) = alice
        .call(Method::DELETE, &format!("/v2/images/{gid}"), None)
        .await;
    assert_eq!(s, 403, "{b}");
    assert!(b["message"].as_str().unwrap().contains("protected"), "{b}");
    let (s, _, _) = alice
        .call(Method::DELETE, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, b, _) = alice
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(s, 404);
    assert_eq!(b["code"], "404 Not Found", "Glance's error shape: {b}");
}

pub(crate) async fn patch(
    c: &Caller<'_>,
    id: &str,
    media: &str,
    ops: Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let resp = reqwest::Client::new()
        .patch(format!("{}/v2/images/{id}", c.cloud.url("image")))
        .header("X-Auth-Token", &c.token)
        .header("Content-Type", media)
        .body(ops.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}

async fn changes(cloud: &Cloud) {
    const V21: &str = "application/openstack-images-v2.1-json-patch";
    let admin_token = cloud.admin_token().await;
    let admin = Caller {
        cloud,
        token: admin_token.clone(),
    };
    let (alice, _) = member(cloud, &admin_token, "alpha").await;
    let (bob, _) = member(cloud, &admin_token, "beta").await;
    let img = alice
        .create(json!({"name": "base", "disk_format": "qcow2", "container_format": "bare", "os_distro": "debian"}))
        .await;
    let id = img["id"].as_str().unwrap();

    // What openstacksdk sends (`add` on everything) and glanceclient's `replace`.
    let (s, b, _) = patch(
        &alice,
        id,
        V21,
        json!([
            {"op": "add", "path": "/name", "value": "Debian 12"},
            {"op": "replace", "path": "/tags", "value": ["b", "a", "b"]},
            {"op": "add", "path": "/min_ram", "value": 512},
            {"op": "add", "path": "/hw_disk_bus", "value": "virtio"},
            {"op": "replace", "path": "/os_distro", "value": "debian12"},
            {"op": "remove", "path": "/hw_disk_bus"},
            {"op": "add", "path": "/a~1b", "value": "slash"}
        ]),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["name"], "Debian 12");
    assert_eq!(b["tags"], json!(["a", "b"]));
    assert_eq!(b["min_ram"], 512);
    assert_eq!(b["os_distro"], "debian12");
    assert_eq!(b["a/b"], "slash");
    assert!(b.get("hw_disk_bus").is_none(), "{b}");
    let (_, shown, _) = alice
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(shown, b, "what PATCH answers is what is stored");

    // Refusals, each with its status; the image is unchanged after them.
    for (media, ops, status) in [
        ("application/json", json!([]), 415),
        (V21, json!({"op": "add"}), 400),
        (V21, json!([{"path": "/name", "value": "x"}]), 400),
        (
            V21,
            json!([{"op": "move", "path": "/name", "value": "x"}]),
            400,
        ),
        (V21, json!([{"op": "add", "path": "/name"}]), 400),
        (
            V21,
            json!([{"op": "add", "path": "/tags/0", "value": "x"}]),
            400,
        ),
        (
            V21,
            json!([{"op": "add", "path": "name", "value": "x"}]),
            400,
        ),
        (
            V21,
            json!([{"op": "replace", "path": "/status", "value": "active"}]),
            403,
        ),
        (
            V21,
            json!([{"op": "replace", "path": "/id", "value": "x"}]),
            403,
        ),
        (
            V21,
            json!([{"op": "add", "path": "/deleted", "value": "x"}]),
            403,
        ),
        (V21, json!([{"op": "remove", "path": "/name"}]), 403),
        (
            V21,
            json!([{"op": "replace", "path": "/nope", "value": "x"}]),
            409,
        ),
        (V21, json!([{"op": "remove", "path": "/nope"}]), 409),
        (
            V21,
            json!([{"op": "add", "path": "/min_disk", "value": -1}]),
            400,
        ),
        (
            V21,
            json!([{"op": "add", "path": "/custom", "value": 1}]),
            400,
        ),
        (
            V21,
            json!([{"op": "replace", "path": "/visibility", "value": "public"}]),
            403,
        ),
        (
            V21,
            json!([{"op": "replace", "path": "/owner", "value": "elsewhere"}]),
            403,
        ),
        (
            V21,
            json!([{"op": "add", "path": "/name", "value": "half"}, {"op": "remove", "path": "/nope"}]),
            409,
        ),
    ] {
        let (s, b, h) = patch(&alice, id, media, ops.clone()).await;
        assert_eq!(s, status, "{media} {ops}: {b}");
        if status == 415 {
            assert!(
                h["accept-patch"]
                    .to_str()
                    .unwrap()
                    .contains("v2.1-json-patch")
            );
        }
    }
    let (_, after, _) = alice
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(
        after["name"], "Debian 12",
        "a refused patch changes nothing"
    );
    let (s, _, _) = patch(
        &bob,
        id,
        V21,
        json!([{"op": "add", "path": "/name", "value": "x"}]),
    )
    .await;
    assert_eq!(s, 404, "another project's shared image is invisible");
    let (s, b, _) = patch(
        &admin,
        id,
        V21,
        json!([{"op": "replace", "path": "/visibility", "value": "public"}]),
    )
    .await;
    assert_eq!((s, &b["visibility"]), (200, &json!("public")));
    let (s, _, _) = patch(
        &bob,
        id,
        V21,
        json!([{"op": "add", "path": "/name", "value": "x"}]),
    )
    .await;
    assert_eq!(
        s, 403,
        "a visible image of another project cannot be changed"
    );

    // Tags one by one.
    let tag = |method: Method, t: &'static str| {
        let path = format!("/v2/images/{id}/tags/{t}");
        let alice = &alice;
        async move { alice.call(method, &path, None).await.0 }
    };
    assert_eq!(tag(Method::PUT, "c").await, 204);
    assert_eq!(tag(Method::PUT, "c").await, 204);
    assert_eq!(tag(Method::DELETE, "a").await, 204);
    assert_eq!(tag(Method::DELETE, "a").await, 404);
    let (_, b, _) = alice
        .call(Method::GET, &format!("/v2/images/{id}"), None)
        .await;
    assert_eq!(b["tags"], json!(["b", "c"]));

    // Deactivation needs an active image (this one has no data yet).
    let (s, b, _) = alice
        .call(
            Method::POST,
            &format!("/v2/images/{id}/actions/deactivate"),
            None,
        )
        .await;
    assert_eq!(s, 403, "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("status 'queued'"),
        "{b}"
    );

    // The schemas python-glanceclient validates with.
    let (s, schema, _) = alice.call(Method::GET, "/v2/schemas/image", None).await;
    assert_eq!(s, 200);
    assert_eq!(schema["additionalProperties"], json!({"type": "string"}));
    assert_eq!(
        schema["properties"]["visibility"]["enum"],
        json!(["community", "public", "private", "shared"])
    );
    for field in b.as_object().unwrap().keys() {
        let core = schema["properties"].get(field).is_some();
        assert!(
            core || b[field].is_string(),
            "{field} is neither in the schema nor a string"
        );
    }
    for path in [
        "/v2/schemas/images",
        "/v2/schemas/member",
        "/v2/schemas/members",
    ] {
        let (s, body, _) = alice.call(Method::GET, path, None).await;
        assert_eq!(s, 200, "{path}");
        assert!(body["name"].is_string(), "{path}: {body}");
    }
}

async fn sharing(cloud: &Cloud) {
    let admin_token = cloud.admin_token().await;
    let (alice, _) = member(cloud, &admin_token, "alpha").await;
    let (bob, bob_project) = member(cloud, &admin_token, "beta").await;
    let (carol, carol_project) = member(cloud, &admin_token, "gamma").await;
    let img = alice.create(json!({"name": "golden"})).await;
    let id = img["id"].as_str().unwrap();
    let members = format!("/v2/images/{id}/members");
    let of = |p: &str| format!("/v2/images/{id}/members/{p}");

    assert_eq!(
        bob.call(Method::GET, &format!("/v2/images/{id}"), None)
            .await
            .0,
        404
    );
    let (s, m, _) = alice
        .call(Method::POST, &members, Some(json!({"member": bob_project})))
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["status"], "pending");
    assert_eq!(m["image_id"], id);
    assert_eq!(m["member_id"], bob_project.as_str());
    assert_eq!(m["schema"], "/v2/schemas/member");
    assert_eq!(
        alice
            .call(Method::POST, &members, Some(json!({"member": bob_project})))
            .await
            .0,
        409
    );
    assert_eq!(
        alice.call(Method::POST, &members, Some(json!({}))).await.0,
        400
    );
    // A project identity does not know: a clear 400, nothing stored.
    let (s, body, _) = alice
        .call(
            Method::POST,
            &members,
            Some(json!({"member": "0a1b2c3d4e5f40718293a4b5c6d7e8f9"})),
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.to_string().contains("does not exist"), "{body}");
    assert_eq!(
        alice
            .call(
                Method::POST,
                &members,
                Some(json!({"member": carol_project}))
            )
            .await
            .0,
        200
    );
    assert_eq!(
        bob.call(Method::POST, &members, Some(json!({"member": "x"})))
            .await
            .0,
        403
    );

    // A pending member sees the image directly, lists it only when asking.
    assert_eq!(
        bob.call(Method::GET, &format!("/v2/images/{id}"), None)
            .await
            .0,
        200
    );
    assert!(bob.names("").await.is_empty());
    assert_eq!(bob.names("?member_status=pending").await, ["golden"]);
    let (_, listed, _) = bob.call(Method::GET, &members, None).await;
    assert_eq!(
        listed["members"].as_array().unwrap().len(),
        1,
        "a member sees itself only"
    );
    let (_, listed, _) = alice.call(Method::GET, &members, None).await;
    assert_eq!(listed["members"].as_array().unwrap().len(), 2);
    assert_eq!(listed["schema"], "/v2/schemas/members");
    assert_eq!(
        bob.call(Method::GET, &of(&carol_project), None).await.0,
        404
    );

    // Only the member answers, with a known status.
    let accept = json!({"status": "accepted"});
    assert_eq!(
        alice
            .call(Method::PUT, &of(&bob_project), Some(accept.clone()))
            .await
            .0,
        403
    );
    assert_eq!(
        bob.call(
            Method::PUT,
            &of(&bob_project),
            Some(json!({"status": "maybe"}))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        bob.call(Method::PUT, &of(&bob_project), Some(json!({})))
            .await
            .0,
        400
    );
    let (s, m, _) = bob.call(Method::PUT, &of(&bob_project), Some(accept)).await;
    assert_eq!((s, &m["status"]), (200, &json!("accepted")), "{m}");
    assert_eq!(bob.names("").await, ["golden"]);
    let (s, m, _) = carol
        .call(
            Method::PUT,
            &of(&carol_project),
            Some(json!({"status": "rejected"})),
        )
        .await;
    assert_eq!((s, &m["status"]), (200, &json!("rejected")), "{m}");
    assert!(carol.names("").await.is_empty());

    // Only the owner removes; removal ends the access.
    assert_eq!(
        bob.call(Method::DELETE, &of(&bob_project), None).await.0,
        403
    );
    assert_eq!(
        alice.call(Method::DELETE, &of(&bob_project), None).await.0,
        204
    );
    assert_eq!(
        alice.call(Method::DELETE, &of(&bob_project), None).await.0,
        404
    );
    assert_eq!(
        bob.call(Method::GET, &format!("/v2/images/{id}"), None)
            .await
            .0,
        404
    );

    // Only a shared image has members.
    let private = alice
        .create(json!({"name": "mine", "visibility": "private"}))
        .await;
    let path = format!("/v2/images/{}/members", private["id"].as_str().unwrap());
    assert_eq!(
        alice
            .call(Method::POST, &path, Some(json!({"member": bob_project})))
            .await
            .0,
        403
    );
    assert_eq!(alice.call(Method::GET, &path, None).await.0, 403);
}
