//! Placement consumers: allocations with project and user (1.8), usages
//! by project (1.9), the dict body (1.12), several consumers claimed at
//! once (1.13), the consumer generation that keeps two writers of one
//! consumer from overwriting each other (1.28), and consumer types with
//! usages by type (1.38).

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::Cloud;

use super::resource_provider::placement;

crate::on_both_backends!(consumers, consumer_types);

const RP: &str = "4d4d4d4d-1111-4a2b-8c3d-4e5f60718293";
const PROJECT: &str = "5e5e5e5e5e5e4e5e8e5e5e5e5e5e5e5e";

fn consumer(n: u32) -> String {
    format!("10000000-0000-4000-8000-{n:012}")
}

fn dict(vcpu: i64) -> Value {
    json!({RP: {"resources": {"VCPU": vcpu}}})
}

async fn consumers(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let call = |v: &'static str, m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move {
            let (s, body, _) = placement(cloud, &admin, v, m, &p, b).await;
            (s, body)
        }
    };
    call(
        "1.6",
        Method::POST,
        "/resource_providers".into(),
        Some(json!({"name": "idc-1-node-1", "uuid": RP})),
    )
    .await;
    let inv = json!({"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 16}}});
    let put_inv = call(
        "1.6",
        Method::PUT,
        format!("/resource_providers/{RP}/inventories"),
        Some(inv),
    );
    assert_eq!(put_inv.await.0, 200);
    let alloc = |n: u32| format!("/allocations/{}", consumer(n));

    // 1.8: project and user are required.
    let list =
        json!({"allocations": [{"resource_provider": {"uuid": RP}, "resources": {"VCPU": 1}}]});
    let (s, err) = call("1.8", Method::PUT, alloc(1), Some(list.clone())).await;
    assert_eq!(s, 400, "{err}");
    let mut with_ids = list.clone();
    with_ids["project_id"] = json!(PROJECT);
    with_ids["user_id"] = json!("alice");
    assert_eq!(
        call("1.8", Method::PUT, alloc(1), Some(with_ids.clone()))
            .await
            .0,
        204
    );
    assert_eq!(
        call("1.7", Method::PUT, alloc(1), Some(with_ids)).await.0,
        400,
        "unknown keys at 1.7"
    );

    // 1.12: the dict form; GET shows project and user.
    let body = json!({"allocations": dict(2), "project_id": PROJECT, "user_id": "bob"});
    assert_eq!(call("1.12", Method::PUT, alloc(2), Some(body)).await.0, 204);
    assert_eq!(
        call("1.12", Method::PUT, alloc(3), Some(list)).await.0,
        400,
        "the list form is gone"
    );
    let (_, got) = call("1.12", Method::GET, alloc(2), None).await;
    assert_eq!(got["project_id"], PROJECT);
    assert_eq!(got["user_id"], "bob");
    assert_eq!(got["allocations"][RP]["resources"], json!({"VCPU": 2}));
    assert!(got.get("consumer_generation").is_none(), "only from 1.28");
    let (_, old) = call("1.11", Method::GET, alloc(2), None).await;
    assert!(old.get("project_id").is_none(), "{old}");

    // 1.9: usages by project, and by user.
    let usages = |q: &str| call("1.9", Method::GET, format!("/usages?{q}"), None);
    assert_eq!(
        usages(&format!("project_id={PROJECT}")).await.1,
        json!({"usages": {"VCPU": 3}})
    );
    assert_eq!(
        usages(&format!("project_id={PROJECT}&user_id=bob")).await.1,
        json!({"usages": {"VCPU": 2}})
    );
    assert_eq!(usages("project_id=nobody").await.1, json!({"usages": {}}));
    assert_eq!(usages("user_id=bob").await.0, 400, "project_id is required");
    assert_eq!(
        call(
            "1.8",
            Method::GET,
            format!("/usages?project_id={PROJECT}"),
            None
        )
        .await
        .0,
        404
    );

    // 1.28: the consumer generation. New consumers say null.
    let at28 = |vcpu: i64, g: Value| json!({"allocations": dict(vcpu), "project_id": PROJECT, "user_id": "carol", "consumer_generation": g});
    assert_eq!(
        call("1.28", Method::PUT, alloc(4), Some(at28(1, json!(null))))
            .await
            .0,
        204
    );
    let (_, got) = call("1.28", Method::GET, alloc(4), None).await;
    assert_eq!(
        got["consumer_generation"], 1,
        "as Placement: 1 after the first claim"
    );
    let (s, err) = call("1.28", Method::PUT, alloc(4), Some(at28(2, json!(null)))).await;
    assert_eq!(s, 409, "it is not new: {err}");
    assert_eq!(err["errors"][0]["code"], "placement.concurrent_update");
    assert_eq!(
        call("1.28", Method::PUT, alloc(4), Some(at28(2, json!(1))))
            .await
            .0,
        204
    );
    // Two writers who both saw generation 2: exactly one wins.
    let (a, b) = tokio::join!(
        call("1.28", Method::PUT, alloc(4), Some(at28(3, json!(2)))),
        call("1.28", Method::PUT, alloc(4), Some(at28(1, json!(2))))
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [204, 409]);
    let (_, got) = call("1.28", Method::GET, alloc(4), None).await;
    assert_eq!(got["consumer_generation"], 3);
    let (s, err) = call(
        "1.28",
        Method::PUT,
        alloc(4),
        Some(json!({"allocations": dict(1), "project_id": PROJECT, "user_id": "carol"})),
    )
    .await;
    assert_eq!(s, 400, "consumer_generation is required at 1.28: {err}");
    // An empty dict gives everything back, checked against the generation.
    let empty = |g: i64| json!({"allocations": {}, "project_id": PROJECT, "user_id": "carol", "consumer_generation": g});
    assert_eq!(
        call("1.28", Method::PUT, alloc(4), Some(empty(2))).await.0,
        409,
        "stale"
    );
    assert_eq!(
        call("1.28", Method::PUT, alloc(4), Some(empty(3))).await.0,
        204
    );
    assert_eq!(
        call("1.28", Method::GET, alloc(4), None).await.1,
        json!({"allocations": {}})
    );

    // 1.13: several consumers at once, all or nothing. 16 VCPU, 3 held.
    let post = |b: Value| call("1.13", Method::POST, "/allocations".into(), Some(b));
    let two = |a: i64, b: i64| {
        json!({
            consumer(5): {"allocations": dict(a), "project_id": PROJECT, "user_id": "dave"},
            consumer(6): {"allocations": dict(b), "project_id": PROJECT, "user_id": "dave"},
        })
    };
    let (s, err) = post(two(8, 6)).await;
    assert_eq!(s, 409, "8 + 6 do not fit in 13: {err}");
    assert_eq!(
        call("1.13", Method::GET, alloc(5), None).await.1,
        json!({"allocations": {}}),
        "nothing written"
    );
    assert_eq!(post(two(7, 6)).await.0, 204);
    // Moving consumer 5's allocation to consumer 7 in one step (a migration).
    let moved = json!({
        consumer(5): {"allocations": {}, "project_id": PROJECT, "user_id": "dave"},
        consumer(7): {"allocations": dict(7), "project_id": PROJECT, "user_id": "dave"},
    });
    assert_eq!(post(moved).await.0, 204);
    let (_, u) = call(
        "1.6",
        Method::GET,
        format!("/resource_providers/{RP}/usages"),
        None,
    )
    .await;
    assert_eq!(u["usages"], json!({"VCPU": 16}));
    assert_eq!(post(json!({})).await.0, 400);
    assert_eq!(
        post(json!({"not-a-uuid": {"allocations": {}, "project_id": "p", "user_id": "u"}}))
            .await
            .0,
        400
    );
    assert_eq!(
        call("1.12", Method::POST, "/allocations".into(), Some(two(1, 1)))
            .await
            .0,
        404,
        "only from 1.13"
    );

    // DELETE removes the consumer; a later PUT at 1.28 starts it anew.
    assert_eq!(call("1.28", Method::DELETE, alloc(7), None).await.0, 204);
    assert_eq!(call("1.28", Method::DELETE, alloc(7), None).await.0, 404);
    assert_eq!(
        call("1.28", Method::PUT, alloc(7), Some(at28(1, json!(null))))
            .await
            .0,
        204
    );
}

/// 1.38: every write names the consumer's type; usages come by type with
/// consumer counts; consumers written before 1.38 are `unknown`.
async fn consumer_types(cloud: &Cloud) {
    const RP2: &str = "4d4d4d4d-2222-4a2b-8c3d-4e5f60718293";
    const P2: &str = "6f6f6f6f6f6f4f6f8f6f6f6f6f6f6f6f";
    let admin = cloud.admin_token().await;
    let call = |v: &'static str, m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move {
            let (s, body, _) = placement(cloud, &admin, v, m, &p, b).await;
            (s, body)
        }
    };
    let rp = json!({"name": "mec-1-node-1", "uuid": RP2});
    assert_eq!(
        call("1.6", Method::POST, "/resource_providers".into(), Some(rp))
            .await
            .0,
        201
    );
    let inv = json!({"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 16}}});
    let path = format!("/resource_providers/{RP2}/inventories");
    assert_eq!(call("1.6", Method::PUT, path, Some(inv)).await.0, 200);
    let alloc = |n: u32| format!("/allocations/{}", consumer(n));
    let body = |vcpu: i64, user: &str, gen_: Value, kind: Option<&str>| {
        let mut b = json!({"allocations": {RP2: {"resources": {"VCPU": vcpu}}},
            "project_id": P2, "user_id": user, "consumer_generation": gen_});
        if let Some(k) = kind {
            b["consumer_type"] = json!(k);
        }
        b
    };

    let (s, e) = call(
        "1.38",
        Method::PUT,
        alloc(20),
        Some(body(1, "u1", json!(null), None)),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    assert!(
        e.to_string()
            .contains("'consumer_type' is a required property"),
        "{e}"
    );
    let bad = body(1, "u1", json!(null), Some("instance"));
    assert_eq!(
        call("1.38", Method::PUT, alloc(20), Some(bad)).await.0,
        400,
        "lower case"
    );
    let early = body(1, "u1", json!(null), Some("INSTANCE"));
    assert_eq!(
        call("1.37", Method::PUT, alloc(20), Some(early)).await.0,
        400,
        "1.38 only"
    );

    let put = |n: u32, v: &'static str, b: Value| call(v, Method::PUT, alloc(n), Some(b));
    assert_eq!(
        put(20, "1.38", body(1, "u1", json!(null), Some("INSTANCE")))
            .await
            .0,
        204
    );
    assert_eq!(
        put(21, "1.38", body(2, "u2", json!(null), Some("MIGRATION")))
            .await
            .0,
        204
    );
    assert_eq!(
        put(22, "1.28", body(1, "u1", json!(null), None)).await.0,
        204
    );
    let (_, a) = call("1.38", Method::GET, alloc(20), None).await;
    assert_eq!(a["consumer_type"], "INSTANCE");
    let (_, a) = call("1.38", Method::GET, alloc(22), None).await;
    assert_eq!(a["consumer_type"], "unknown", "written before 1.38");
    let (_, a) = call("1.37", Method::GET, alloc(20), None).await;
    assert!(a.get("consumer_type").is_none());

    let usages = |v: &'static str, q: &str| {
        call(v, Method::GET, format!("/usages?project_id={P2}{q}"), None)
    };
    let (s, u) = usages("1.38", "").await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(
        u["usages"],
        json!({"INSTANCE": {"consumer_count": 1, "VCPU": 1},
               "MIGRATION": {"consumer_count": 1, "VCPU": 2},
               "unknown": {"consumer_count": 1, "VCPU": 1}})
    );
    let (_, u) = usages("1.38", "&consumer_type=all").await;
    assert_eq!(
        u["usages"],
        json!({"all": {"consumer_count": 3, "VCPU": 4}})
    );
    let (_, u) = usages("1.38", "&consumer_type=unknown").await;
    assert_eq!(
        u["usages"],
        json!({"unknown": {"consumer_count": 1, "VCPU": 1}})
    );
    let (_, u) = usages("1.38", "&consumer_type=INSTANCE&user_id=u1").await;
    assert_eq!(
        u["usages"],
        json!({"INSTANCE": {"consumer_count": 1, "VCPU": 1}})
    );
    let (_, u) = usages("1.38", "&consumer_type=NOPE").await;
    assert_eq!(u["usages"], json!({}));
    assert_eq!(usages("1.38", "&consumer_type=bad-type").await.0, 400);
    let (_, u) = usages("1.37", "").await;
    assert_eq!(u["usages"], json!({"VCPU": 4}), "flat before 1.38");
    assert_eq!(usages("1.37", "&consumer_type=all").await.0, 400);

    // A later write changes the type.
    assert_eq!(
        put(22, "1.38", body(1, "u1", json!(1), Some("INSTANCE")))
            .await
            .0,
        204
    );
    let (_, u) = usages("1.38", "").await;
    assert_eq!(
        u["usages"],
        json!({"INSTANCE": {"consumer_count": 2, "VCPU": 2},
               "MIGRATION": {"consumer_count": 1, "VCPU": 2}})
    );
}
