//! Authorization coverage: walks every operation of every service's OpenAPI
//! document and proves, against the running services, that
//! (a) without a token it is refused with 401 (unless it is one of the few
//!     public operations listed here),
//! (b) a reader cannot write (no 2xx for a non-GET operation, except the
//!     self-service ones listed here),
//! (c) a member of project A gets 404 on project B's resources.
//! A new endpoint is covered the moment it is in a document; one whose path
//! parameter the fixtures do not know fails the test until a fixture is added.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::Value;

use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::application_credential::{self, NewApplicationCredential};
use virga_identity::db::{assignment, group, project, role, user};
use virga_identity::migrations::Migrator;
use virga_tests::{Backend, Cloud};

/// Operations anyone may call: discovery, operations endpoints, logging in
/// and the public keys.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/v3"),
    ("GET", "/v2.1"),
    ("GET", "/v2.1/"),
    ("GET", "/v2.0/"),
    ("GET", "/v1"),
    ("GET", "/versions"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("POST", "/v3/auth/tokens"),
    ("GET", "/v3/auth/jwks"),
    // Authenticates with the user's current password instead of a token,
    // like a login, and fails like one: 401 whoever asks.
    ("POST", "/v3/users/{user_id}/password"),
    // A browser's single sign-on: begun before there is a token (400
    // without an origin), finished by the identity provider's redirect.
    (
        "GET",
        "/v3/auth/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/websso",
    ),
    ("GET", "/v3/auth/OS-VIRGA/websso/callback"),
    // A node's image download, and its upload of a server's disk: the
    // signature is the permission (403 when wrong or expired, 400 without
    // one), as Swift's TempURL.
    ("GET", "/v2/images/{image_id}/signed-file"),
    ("PUT", "/v2/images/{image_id}/signed-file"),
];

/// Writes a reader may make because they are about the reader themselves.
const SELF_SERVICE: &[(&str, &str)] = &[
    ("DELETE", "/v3/auth/tokens"),
    ("POST", "/v3/users/{user_id}/application_credentials"),
    (
        "DELETE",
        "/v3/users/{user_id}/application_credentials/{application_credential_id}",
    ),
];

/// Path parameters that name something owned by a project or its users:
/// with project B's values, a member of project A must get 404.
const OWNED_BY_PROJECT: &[&str] = &[
    "project_id",
    "user_id",
    "application_credential_id",
    "image_id",
    "network_id",
    "subnet_id",
    "port_id",
    "security_group_id",
    "rule_id",
    "router_id",
    "floatingip_id",
    "server_group_id",
    "server_id",
];

struct World {
    /// Parameter → value in the reader's own project A.
    mine: BTreeMap<&'static str, String>,
    /// Parameter → value belonging to project B.
    theirs: BTreeMap<&'static str, String>,
}

async fn make_user(db: &DatabaseConnection, name: &str, project: &str, role_name: &str) -> String {
    let id = user::create(
        db,
        user::NewUser {
            name: name.into(),
            domain_id: "default".into(),
            enabled: true,
            password: Some(virga_auth::hash_password("pw-123456").unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id;
    let filter = role::RoleFilter {
        name: Some(role_name.into()),
        domain_id: None,
    };
    let page = virga_common::pagination::PageRequest {
        limit: 1,
        marker: None,
    };
    let role_id = role::list(db, &filter, &page).await.unwrap().items[0]
        .id
        .clone();
    assignment::grant(
        db,
        &assignment::Model {
            actor_type: assignment::ActorType::User,
            actor_id: id.clone(),
            target_type: assignment::TargetType::Project,
            target_id: project.into(),
            role_id,
            inherited: false,
        },
    )
    .await
    .unwrap();
    id
}

async fn world(cloud: &Cloud) -> World {
    let url = cloud.config.database_url("identity");
    let db = virga_db::connect_and_migrate::<Migrator>(&url, 1)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for name in ["project-a", "project-b"] {
        let p = project::create(
            &db,
            project::NewProject {
                name: name.into(),
                domain_id: "default".into(),
                enabled: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        ids.push(p.id);
    }
    let (a, b) = (ids[0].clone(), ids[1].clone());
    let reader = make_user(&db, "reader-a", &a, "reader").await;
    make_user(&db, "member-a", &a, "member").await;
    let other = make_user(&db, "member-b", &b, "member").await;
    let cred = |user: String, project: String| {
        let db = db.clone();
        async move {
            application_credential::create(
                &db,
                NewApplicationCredential {
                    user_id: user,
                    project_id: project,
                    name: "c".into(),
                    secret_hash: virga_auth::hash_password("s").unwrap().to_phc(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .id
        }
    };
    let my_cred = cred(reader.clone(), a.clone()).await;
    let their_cred = cred(other.clone(), b.clone()).await;
    let g = group::create(
        &db,
        group::NewGroup {
            name: "g".into(),
            domain_id: "default".into(),
            description: None,
        },
    )
    .await
    .unwrap()
    .id;
    let page = virga_common::pagination::PageRequest {
        limit: 1,
        marker: None,
    };
    let member_role = role::list(
        &db,
        &role::RoleFilter {
            name: Some("member".into()),
            domain_id: None,
        },
        &page,
    )
    .await
    .unwrap()
    .items[0]
        .id
        .clone();
    let service = virga_identity::db::catalog::list_services(&db, None)
        .await
        .unwrap()[0]
        .id
        .clone();
    let endpoint = virga_identity::db::catalog::list_endpoints(&db, &Default::default())
        .await
        .unwrap()[0]
        .id
        .clone();
    let (idp, mapping, protocol) = federation(&db).await;
    let shared = [
        ("tag", "fixture-tag".to_string()),
        ("alias", "security-group".to_string()),
        ("member_id", "fixture-member".to_string()),
        ("store_id", "central".to_string()),
        ("uuid", "0f0e0d0c-0b0a-4908-8706-050403020100".to_string()),
        ("resource_class", "VCPU".to_string()),
        (
            "consumer_uuid",
            "0f0e0d0c-0b0a-4908-8706-0504030201ff".to_string(),
        ),
        ("name", "VCPU".to_string()),
        ("idp_id", idp),
        ("mapping_id", mapping),
        ("protocol_id", protocol),
        ("domain_id", "default".to_string()),
        ("role_id", member_role),
        ("group_id", g),
        ("region_id", cloud.config.region.clone()),
        ("service_id", service),
        ("endpoint_id", endpoint),
        // Flavors are the cloud's, not a project's; key pairs are the
        // caller's own, found by name.
        ("flavor_id", "fixture-flavor".to_string()),
        ("flavor_extra_spec_key", "fixture-key".to_string()),
        ("keypair_name", "fixture-keypair".to_string()),
        // A server's live migration, of which none is ever in progress.
        ("migration_id", "1".to_string()),
        ("site", "fixture-site".to_string()),
        // Nodes are the cloud's (admins' to see).
        (
            "hypervisor_id",
            "0f0e0d0c-0b0a-4908-8706-0504030201aa".to_string(),
        ),
    ];
    let mut mine: BTreeMap<&str, String> = shared.clone().into_iter().collect();
    let mut theirs: BTreeMap<&str, String> = shared.into_iter().collect();
    // Another project's quota set is 403, not 404, as in Nova: the
    // project's existence is no secret to whoever names it.
    mine.insert("tenant_id", a.clone());
    theirs.insert("tenant_id", b.clone());
    mine.insert("project_id", a);
    mine.insert("user_id", reader);
    mine.insert("application_credential_id", my_cred);
    theirs.insert("project_id", b);
    theirs.insert("user_id", other);
    theirs.insert("application_credential_id", their_cred);
    World { mine, theirs }
}

/// An identity provider with a mapping and a protocol, for the
/// federation endpoints' path parameters.
async fn federation(db: &DatabaseConnection) -> (String, String, String) {
    use virga_identity::db::federation::{identity_provider, mapping, protocol};
    let idp = identity_provider::create(
        db,
        identity_provider::NewIdentityProvider {
            id: "corp".into(),
            domain_id: "default".into(),
            enabled: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let rules = r#"[{"local":[{"user":{"name":"{0}"}}],"remote":[{"type":"sub"}]}]"#;
    let m = mapping::create(
        db,
        mapping::Model {
            id: "corp-map".into(),
            rules: rules.into(),
            schema_version: "1.0".into(),
        },
    )
    .await
    .unwrap();
    let p = protocol::create(
        db,
        protocol::Model {
            idp_id: idp.id.clone(),
            id: "openid".into(),
            mapping_id: m.id.clone(),
            remote_id_attribute: None,
        },
    )
    .await
    .unwrap();
    (idp.id, m.id, p.id)
}

/// A private image of the token's project, through the image API.
async fn private_image(cloud: &Cloud, token: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/v2/images", cloud.url("image")))
        .header("X-Auth-Token", token)
        .json(&serde_json::json!({"name": "fixture", "visibility": "private"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let body: Value = resp.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

struct Operation {
    service: &'static str,
    method: String,
    path: String,
    /// A body that passes the request schema, so the answer is about
    /// authorization, not about the body's shape.
    body: Option<Value>,
    /// The media type the body is sent as (the first the operation takes).
    media: String,
}

/// Every operation of every service.
fn operations() -> Vec<Operation> {
    let mut out = Vec::new();
    for (service, doc) in virga::openapi_documents() {
        let doc = serde_json::to_value(doc).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if ["get", "put", "post", "delete", "patch", "head"].contains(&method.as_str()) {
                    let content = op["requestBody"]["content"].as_object();
                    let (media, schema) = content
                        .and_then(|c| c.iter().next())
                        .map(|(m, c)| (m.clone(), c["schema"].clone()))
                        .unwrap_or_else(|| ("application/json".into(), Value::Null));
                    let body = (!schema.is_null()).then(|| example(&doc, &schema, 0));
                    out.push(Operation {
                        service,
                        method: method.to_uppercase(),
                        path: path.clone(),
                        body,
                        media,
                    });
                }
            }
        }
    }
    out
}

/// A minimal value of `schema`: its required properties filled in.
fn example(doc: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 8 {
        return Value::Null;
    }
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return example(doc, &doc["components"]["schemas"][name], depth + 1);
    }
    if let Some(first) = schema["oneOf"].as_array().and_then(|v| v.first()) {
        return example(doc, first, depth + 1);
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .find(|k| *k != "null")
            .and_then(Value::as_str)
            .unwrap_or("null"),
        other => other.as_str().unwrap_or("object"),
    };
    match kind {
        "string" => Value::String("x".into()),
        "boolean" => Value::Bool(true),
        "integer" | "number" => Value::from(1),
        "array" => Value::Array(Vec::new()),
        "object" => {
            let mut obj = serde_json::Map::new();
            for req in schema["required"].as_array().into_iter().flatten() {
                let name = req.as_str().unwrap();
                obj.insert(
                    name.to_string(),
                    example(doc, &schema["properties"][name], depth + 1),
                );
            }
            Value::Object(obj)
        }
        _ => Value::Null,
    }
}

fn params(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split('}').next())
        .collect()
}

fn fill(path: &str, values: &BTreeMap<&'static str, String>) -> String {
    let mut out = path.to_string();
    for p in params(path) {
        let v = values
            .get(p)
            .unwrap_or_else(|| panic!("{path}: add a fixture for path parameter `{p}`"));
        out = out.replace(&format!("{{{p}}}"), v);
    }
    out
}

async fn call(
    cloud: &Cloud,
    op: &Operation,
    values: &BTreeMap<&'static str, String>,
    token: Option<&str>,
) -> u16 {
    let method = Method::from_bytes(op.method.as_bytes()).unwrap();
    let url = format!("{}{}", cloud.url(op.service), fill(&op.path, values));
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(t) = token {
        req = req.header("X-Auth-Token", t);
    }
    if let Some(body) = &op.body {
        req = req.header("Content-Type", &op.media).body(body.to_string());
    }
    req.send().await.unwrap().status().as_u16()
}

/// Creates one network resource and gives its id.
async fn neutron_create(cloud: &Cloud, token: &str, kind: &str, body: Value) -> String {
    let net = crate::network::Net {
        cloud,
        token: token.to_owned(),
    };
    net.create(kind, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A server group of the token's project.
async fn server_group(cloud: &Cloud, token: &str) -> String {
    let nova = crate::nova::Nova {
        cloud,
        token: token.to_owned(),
    };
    let (s, v) = nova
        .post(
            "/v2.1/os-server-groups",
            serde_json::json!({"server_group": {"name": "g", "policies": ["affinity"]}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v["server_group"]["id"].as_str().unwrap().to_owned()
}

/// A server of the token's project (of an active image of its own; with
/// no node to run on it ends in ERROR, which is as good here).
async fn server(cloud: &Cloud, token: &str, flavor: &str) -> String {
    let http = reqwest::Client::new();
    let image = private_image(cloud, token).await;
    let resp = http
        .patch(format!("{}/v2/images/{image}", cloud.url("image")))
        .header("X-Auth-Token", token)
        .header(
            "Content-Type",
            "application/openstack-images-v2.1-json-patch",
        )
        .json(&serde_json::json!([
            {"op": "add", "path": "/disk_format", "value": "raw"},
            {"op": "add", "path": "/container_format", "value": "bare"},
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let resp = http
        .put(format!("{}/v2/images/{image}/file", cloud.url("image")))
        .header("X-Auth-Token", token)
        .header("Content-Type", "application/octet-stream")
        .body(vec![1u8; 64])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    let nova = crate::nova::Nova {
        cloud,
        token: token.to_owned(),
    };
    let body = serde_json::json!({"server": {"name": "s", "imageRef": image, "flavorRef": flavor}});
    let (s, v) = nova.post("/v2.1/servers", body).await;
    assert_eq!(s, 202, "{v}");
    v["server"]["id"].as_str().unwrap().to_owned()
}

/// An external network (the admin's) floating IPs come from.
async fn external_network(cloud: &Cloud) -> String {
    let admin = cloud.admin_token().await;
    let net = neutron_create(
        cloud,
        &admin,
        "network",
        serde_json::json!({"name": "ext", "router:external": true}),
    )
    .await;
    neutron_create(
        cloud,
        &admin,
        "subnet",
        serde_json::json!({"network_id": net, "ip_version": 4, "cidr": "203.0.113.0/24"}),
    )
    .await;
    net
}

/// A project's network resources, one of each kind, for the network
/// service's path parameters.
async fn network_fixtures(
    cloud: &Cloud,
    token: &str,
    external: &str,
) -> Vec<(&'static str, String)> {
    let net = neutron_create(cloud, token, "network", serde_json::json!({"name": "n"})).await;
    let subnet = neutron_create(
        cloud,
        token,
        "subnet",
        serde_json::json!({"network_id": net, "ip_version": 4, "cidr": "10.0.0.0/24"}),
    )
    .await;
    let port = neutron_create(cloud, token, "port", serde_json::json!({"network_id": net})).await;
    let group = neutron_create(
        cloud,
        token,
        "security_group",
        serde_json::json!({"name": "g"}),
    )
    .await;
    let rule = neutron_create(
        cloud,
        token,
        "security_group_rule",
        serde_json::json!({"security_group_id": group, "direction": "ingress", "protocol": "tcp"}),
    )
    .await;
    let router = neutron_create(cloud, token, "router", serde_json::json!({"name": "r"})).await;
    let fip = neutron_create(
        cloud,
        token,
        "floatingip",
        serde_json::json!({"floating_network_id": external}),
    )
    .await;
    vec![
        ("network_id", net),
        ("subnet_id", subnet),
        ("port_id", port),
        ("security_group_id", group),
        ("rule_id", rule),
        ("router_id", router),
        ("floatingip_id", fip),
    ]
}

fn listed(list: &[(&str, &str)], method: &str, path: &str) -> bool {
    list.iter().any(|(m, p)| *m == method && *p == path)
}

#[tokio::test]
async fn every_operation_is_authorized() {
    let cloud = Cloud::start(Backend::Embedded).await;
    let w = world(&cloud).await;
    let reader = cloud
        .token("reader-a", "pw-123456", Some("project-a"))
        .await;
    let member = cloud
        .token("member-a", "pw-123456", Some("project-a"))
        .await;
    let mut w = w;
    let other = cloud
        .token("member-b", "pw-123456", Some("project-b"))
        .await;
    w.mine
        .insert("image_id", private_image(&cloud, &member).await);
    w.theirs
        .insert("image_id", private_image(&cloud, &other).await);
    let external = external_network(&cloud).await;
    w.mine
        .extend(network_fixtures(&cloud, &member, &external).await);
    w.theirs
        .extend(network_fixtures(&cloud, &other, &external).await);
    w.mine
        .insert("server_group_id", server_group(&cloud, &member).await);
    w.theirs
        .insert("server_group_id", server_group(&cloud, &other).await);
    let admin = crate::nova::Nova {
        cloud: &cloud,
        token: cloud.admin_token().await,
    };
    let flavor = serde_json::json!({"flavor": {"name": "fixture-server", "id": "fixture-server", "ram": 64, "vcpus": 1, "disk": 0}});
    assert_eq!(admin.post("/v2.1/flavors", flavor).await.0, 200);
    w.mine
        .insert("server_id", server(&cloud, &member, "fixture-server").await);
    w.theirs
        .insert("server_id", server(&cloud, &other, "fixture-server").await);
    for (token, values) in [(&member, &mut w.mine), (&other, &mut w.theirs)] {
        let nova = crate::nova::Nova {
            cloud: &cloud,
            token: token.clone(),
        };
        let path = format!("/v2.1/servers/{}/os-instance-actions", values["server_id"]);
        let (s, v) = nova.get(&path).await;
        assert_eq!(s, 200, "{v}");
        let created = v["instanceActions"][0]["request_id"].as_str().unwrap();
        values.insert("request_id", created.to_owned());
    }
    let mut failures = Vec::new();
    let ops = operations();
    assert!(
        ops.len() > 20,
        "the documents list the endpoints: {}",
        ops.len()
    );
    for op in &ops {
        let (service, method, path) = (op.service, op.method.as_str(), op.path.as_str());
        let public = listed(PUBLIC, method, path);
        // (a)
        let status = call(&cloud, op, &w.mine, None).await;
        if !public && status != 401 {
            failures.push(format!(
                "{service} {method} {path}: no token gave {status}, not 401"
            ));
        }
        if public {
            continue;
        }
        // (b)
        let write = !matches!(method, "GET" | "HEAD");
        if write && !listed(SELF_SERVICE, method, path) {
            let status = call(&cloud, op, &w.mine, Some(&reader)).await;
            if (200..300).contains(&status) {
                failures.push(format!(
                    "{service} {method} {path}: a reader's write gave {status}"
                ));
            }
        }
        // (c)
        if params(path).iter().any(|p| OWNED_BY_PROJECT.contains(p)) {
            let status = call(&cloud, op, &w.theirs, Some(&member)).await;
            if status != 404 {
                failures.push(format!(
                    "{service} {method} {path}: project A's member on project B's resource gave {status}, not 404"
                ));
            }
        }
    }
    cloud.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
