//! Placement traits (microversion 1.6): the standard list, custom traits'
//! lifecycle, a provider's traits changed compare-and-set on its
//! generation, and each refusal.

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::Cloud;

use super::resource_provider::placement;

crate::on_both_backends!(traits);

async fn traits(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let call = |v: &'static str, m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move {
            let (s, body, _) = placement(cloud, &admin, v, m, &p, b).await;
            (s, body)
        }
    };
    let get = |p: &str| call("1.6", Method::GET, p.to_owned(), None);

    // Before 1.6 there are no traits.
    assert_eq!(
        call("1.5", Method::GET, "/traits".into(), None).await.0,
        404
    );

    // The standard list is os-traits'.
    let (s, all) = get("/traits").await;
    assert_eq!(s, 200);
    let names: Vec<&str> = all["traits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for t in [
        "HW_CPU_X86_AVX2",
        "HW_ARCH_AARCH64",
        "COMPUTE_STATUS_DISABLED",
    ] {
        assert!(names.contains(&t), "{t} is standard");
    }
    assert!(names.len() > 300, "os-traits has ~377");
    let (_, some) = get("/traits?name=startswith:HW_ARCH_AARCH").await;
    assert_eq!(some["traits"], json!(["HW_ARCH_AARCH64"]));
    let (_, some) = get("/traits?name=in:HW_CPU_X86_AVX2,NOPE").await;
    assert_eq!(some["traits"], json!(["HW_CPU_X86_AVX2"]));
    assert_eq!(
        get("/traits?name=AVX").await.0,
        400,
        "neither in: nor startswith:"
    );
    assert_eq!(get("/traits?associated=maybe").await.0, 400);
    assert_eq!(get("/traits?colour=red").await.0, 400);

    // Custom traits: created (201), again (204), shown, refused names.
    let put = |name: &str| call("1.6", Method::PUT, format!("/traits/{name}"), None);
    assert_eq!(put("CUSTOM_EDGE_CAMERA").await.0, 201);
    assert_eq!(put("CUSTOM_EDGE_CAMERA").await.0, 204);
    assert_eq!(get("/traits/CUSTOM_EDGE_CAMERA").await.0, 204);
    assert_eq!(get("/traits/HW_CPU_X86_AVX2").await.0, 204);
    assert_eq!(get("/traits/CUSTOM_NOPE").await.0, 404);
    for bad in ["HW_CPU_X86_AVX2", "CUSTOM_lower", "CUSTOM_", "EDGE_CAMERA"] {
        let (s, err) = put(bad).await;
        assert_eq!(s, 400, "{bad}: {err}");
    }

    // A provider's traits.
    let rp = "7a7a7a7a-1111-4a2b-8c3d-4e5f60718293";
    call(
        "1.6",
        Method::POST,
        "/resource_providers".into(),
        Some(json!({"name": "arm-gw-1", "uuid": rp})),
    )
    .await;
    let path = format!("/resource_providers/{rp}/traits");
    let (s, t) = get(&path).await;
    assert_eq!(
        (s, &t),
        (
            200,
            &json!({"traits": [], "resource_provider_generation": 0})
        )
    );
    let set = |traits: Value, g: i64| {
        call(
            "1.6",
            Method::PUT,
            path.clone(),
            Some(json!({"traits": traits, "resource_provider_generation": g})),
        )
    };
    let (s, t) = set(json!(["HW_ARCH_AARCH64", "CUSTOM_EDGE_CAMERA"]), 0).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        t,
        json!({"traits": ["CUSTOM_EDGE_CAMERA", "HW_ARCH_AARCH64"], "resource_provider_generation": 1})
    );
    let (s, err) = set(json!(["HW_ARCH_AARCH64"]), 0).await;
    assert_eq!(s, 409, "a stale generation: {err}");
    assert_eq!(err["errors"][0]["code"], "placement.concurrent_update");
    let (s, err) = set(json!(["CUSTOM_NOPE", "HW_ARCH_AARCH64"]), 1).await;
    assert_eq!(s, 400);
    assert!(
        err["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("CUSTOM_NOPE"),
        "{err}"
    );
    for bad in [
        json!({"traits": ["HW_ARCH_AARCH64"]}),
        json!({"traits": "HW_ARCH_AARCH64", "resource_provider_generation": 1}),
        json!({"traits": ["lower"], "resource_provider_generation": 1}),
        json!({"traits": ["A", "A"], "resource_provider_generation": 1}),
        json!({"traits": [], "resource_provider_generation": 1, "x": 1}),
    ] {
        let (s, err) = call("1.6", Method::PUT, path.clone(), Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad}: {err}");
    }
    assert_eq!(
        get(&path).await.1["resource_provider_generation"],
        1,
        "nothing changed"
    );
    let (_, p) = get(&format!("/resource_providers/{rp}")).await;
    assert!(
        p["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "traits"),
        "{p}"
    );

    // associated, and a trait in use cannot go.
    let (_, used) = get("/traits?associated=true").await;
    assert_eq!(
        used["traits"],
        json!(["CUSTOM_EDGE_CAMERA", "HW_ARCH_AARCH64"])
    );
    let (_, unused) = get("/traits?associated=false&name=startswith:CUSTOM_").await;
    assert_eq!(unused["traits"], json!([]));
    let del = |name: &str| call("1.6", Method::DELETE, format!("/traits/{name}"), None);
    let (s, err) = del("CUSTOM_EDGE_CAMERA").await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(del("HW_ARCH_AARCH64").await.0, 400, "standard");
    assert_eq!(del("CUSTOM_NOPE").await.0, 404);

    // Removing a provider's traits bumps its generation; then the trait goes.
    assert_eq!(call("1.6", Method::DELETE, path.clone(), None).await.0, 204);
    assert_eq!(
        get(&path).await.1,
        json!({"traits": [], "resource_provider_generation": 2})
    );
    assert_eq!(del("CUSTOM_EDGE_CAMERA").await.0, 204);
    assert_eq!(get("/traits/CUSTOM_EDGE_CAMERA").await.0, 404);
    let missing = "/resource_providers/00000000-1111-4a2b-8c3d-4e5f60718293/traits";
    assert_eq!(get(missing).await.0, 404);
}
