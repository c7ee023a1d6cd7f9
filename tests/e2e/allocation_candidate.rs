//! Allocation candidates (`GET /allocation_candidates`) over a small
//! edge layout: a site with two nodes (one with a GPU) and a lone box.
//! Covers each version's shape, traits, aggregates through the site,
//! granular groups, nesting, limit, claiming a candidate and the 400s.

use reqwest::Method;
use serde_json::{Value, json};
use virga_tests::Cloud;

use super::resource_provider::placement;

crate::on_both_backends!(allocation_candidates);

const SITE: &str = "a1000000-0000-4000-8000-000000000000";
const N1: &str = "a1000000-0000-4000-8000-000000000001";
const N2: &str = "a1000000-0000-4000-8000-000000000002";
const GPU: &str = "a1000000-0000-4000-8000-000000000003";
const LONE: &str = "a2000000-0000-4000-8000-000000000000";
const AGG: &str = "a9000000-0000-4000-8000-000000000000";
const SS: &str = "a3000000-0000-4000-8000-000000000000";

/// The providers of each candidate, sorted, as "PROVIDER:CLASS=n" lists.
fn shapes(body: &Value) -> Vec<String> {
    let mut out: Vec<String> = body["allocation_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut parts: Vec<String> = r["allocations"]
                .as_object()
                .unwrap()
                .iter()
                .flat_map(|(p, a)| {
                    let name = match p.as_str() {
                        SITE => "site",
                        N1 => "n1",
                        N2 => "n2",
                        GPU => "gpu",
                        LONE => "lone",
                        SS => "ss",
                        _ => "?",
                    };
                    a["resources"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(move |(c, n)| format!("{name}:{c}={n}"))
                })
                .collect();
            parts.sort();
            parts.join(" ")
        })
        .collect();
    out.sort();
    out
}

async fn allocation_candidates(cloud: &Cloud) {
    let admin = cloud.admin_token().await;
    let call = |v: &'static str, m: Method, p: String, b: Option<Value>| {
        let admin = admin.clone();
        async move {
            let (s, body, _) = placement(cloud, &admin, v, m, &p, b).await;
            (s, body)
        }
    };
    let get = |v: &'static str, q: &str| {
        call(v, Method::GET, format!("/allocation_candidates?{q}"), None)
    };

    // The layout.
    for (name, uuid, parent) in [
        ("site-1", SITE, None),
        ("site-1-n1", N1, Some(SITE)),
        ("site-1-n2", N2, Some(SITE)),
        ("site-1-n1-gpu", GPU, Some(N1)),
        ("lone-box", LONE, None),
    ] {
        let mut b = json!({"name": name, "uuid": uuid});
        if let Some(p) = parent {
            b["parent_provider_uuid"] = json!(p);
        }
        let (s, err) = call("1.29", Method::POST, "/resource_providers".into(), Some(b)).await;
        assert_eq!(s, 200, "{err}");
    }
    for (uuid, inv, traits) in [
        (
            N1,
            json!({"VCPU": {"total": 8}, "MEMORY_MB": {"total": 8192}}),
            json!(["HW_CPU_X86_AVX2"]),
        ),
        (
            N2,
            json!({"VCPU": {"total": 4}, "MEMORY_MB": {"total": 4096}}),
            json!(["HW_ARCH_AARCH64"]),
        ),
        (
            GPU,
            json!({"VGPU": {"total": 2}}),
            json!(["HW_GPU_API_VULKAN"]),
        ),
        (
            LONE,
            json!({"VCPU": {"total": 16}, "MEMORY_MB": {"total": 16384}}),
            json!([]),
        ),
    ] {
        let body = json!({"resource_provider_generation": 0, "inventories": inv});
        let (s, err) = call(
            "1.29",
            Method::PUT,
            format!("/resource_providers/{uuid}/inventories"),
            Some(body),
        )
        .await;
        assert_eq!(s, 200, "{err}");
        let body = json!({"resource_provider_generation": 1, "traits": traits});
        let (s, err) = call(
            "1.29",
            Method::PUT,
            format!("/resource_providers/{uuid}/traits"),
            Some(body),
        )
        .await;
        assert_eq!(s, 200, "{err}");
    }
    let body = json!({"resource_provider_generation": 0, "aggregates": [AGG]});
    assert_eq!(
        call(
            "1.29",
            Method::PUT,
            format!("/resource_providers/{SITE}/aggregates"),
            Some(body)
        )
        .await
        .0,
        200
    );

    assert_eq!(
        get("1.9", "resources=VCPU:1").await.0,
        404,
        "1.10 and later"
    );

    // 1.10: one provider holds everything; the list form; only the asked classes.
    let (s, c) = get("1.10", "resources=VCPU:2,MEMORY_MB:1024").await;
    assert_eq!(s, 200, "{c}");
    let first = &c["allocation_requests"][0]["allocations"];
    assert!(first.is_array(), "the 1.10 list form: {c}");
    assert_eq!(
        c["allocation_requests"].as_array().unwrap().len(),
        3,
        "n1, n2, lone: {c}"
    );
    assert_eq!(
        c["provider_summaries"][N1],
        json!({"resources": {"VCPU": {"capacity": 8, "used": 0}, "MEMORY_MB": {"capacity": 8192, "used": 0}}})
    );

    // 1.29: the unnumbered group may spread over a tree; one granular
    // group keeps it on one provider.
    let (_, c) = get("1.29", "resources=VCPU:2,MEMORY_MB:1024").await;
    assert_eq!(
        shapes(&c),
        [
            "lone:MEMORY_MB=1024 lone:VCPU=2",
            "n1:MEMORY_MB=1024 n1:VCPU=2",
            "n1:MEMORY_MB=1024 n2:VCPU=2",
            "n1:VCPU=2 n2:MEMORY_MB=1024",
            "n2:MEMORY_MB=1024 n2:VCPU=2",
        ]
    );
    let (_, c) = get("1.29", "resources1=VCPU:2,MEMORY_MB:1024").await;
    assert_eq!(shapes(&c).len(), 3);
    assert_eq!(
        c["provider_summaries"][SITE]["parent_provider_uuid"],
        Value::Null,
        "the whole tree: {c}"
    );
    assert_eq!(c["provider_summaries"][GPU]["root_provider_uuid"], SITE);
    assert_eq!(
        c["provider_summaries"][GPU]["traits"],
        json!(["HW_GPU_API_VULKAN"])
    );

    // 1.31: `in_tree` keeps a group in one provider's tree (any provider
    // of it names it); an unknown provider's tree is empty.
    let (_, c) = get("1.31", &format!("resources1=VCPU:2&in_tree1={GPU}")).await;
    assert_eq!(shapes(&c), ["n1:VCPU=2", "n2:VCPU=2"], "{c}");
    let (_, c) = get("1.31", &format!("resources=VCPU:2&in_tree={LONE}")).await;
    assert_eq!(shapes(&c), ["lone:VCPU=2"], "{c}");
    let nowhere = "a3000000-0000-4000-8000-000000000000";
    let (s, c) = get("1.31", &format!("resources=VCPU:2&in_tree={nowhere}")).await;
    assert_eq!((s, shapes(&c).len()), (200, 0), "{c}");
    let (s, _) = get("1.30", &format!("resources=VCPU:2&in_tree={LONE}")).await;
    assert_eq!(s, 400, "in_tree is 1.31");
    let (s, c) = get("1.31", "resources=VCPU:2&in_tree=not-a-uuid").await;
    assert_eq!(s, 400, "{c}");
    assert!(c.to_string().contains("in_tree"), "{c}");

    // Traits (1.17), forbidden traits (1.22), aggregates through the root (1.21).
    let (_, c) = get("1.17", "resources=VCPU:1&required=HW_CPU_X86_AVX2").await;
    assert_eq!(shapes(&c), ["n1:VCPU=1"]);
    let (_, c) = get("1.22", "resources=VCPU:1&required=!HW_CPU_X86_AVX2").await;
    assert_eq!(shapes(&c), ["lone:VCPU=1", "n2:VCPU=1"]);
    let (_, c) = get("1.21", &format!("resources=VCPU:1&member_of={AGG}")).await;
    assert_eq!(
        shapes(&c),
        ["n1:VCPU=1", "n2:VCPU=1"],
        "the nodes are in the site's aggregate"
    );

    // 1.32: forbidden aggregates, here through the root as well.
    let (_, c) = get("1.32", &format!("resources=VCPU:1&member_of=!{AGG}")).await;
    assert_eq!(shapes(&c), ["lone:VCPU=1"], "{c}");
    let (_, c) = get("1.32", &format!("resources1=VCPU:1&member_of1=!in:{AGG}")).await;
    assert_eq!(shapes(&c), ["lone:VCPU=1"], "{c}");
    for (v, q) in [
        ("1.31", format!("resources=VCPU:1&member_of=!{AGG}")),
        (
            "1.32",
            format!("resources=VCPU:1&member_of=in:{AGG},!{AGG}"),
        ),
        (
            "1.32",
            format!("resources=VCPU:1&member_of=!in:{AGG},!{AGG}"),
        ),
    ] {
        let (s, err) = get(v, &q).await;
        assert_eq!(s, 400, "{v} {q}: {err}");
    }
    // The provider list: the provider's own aggregates, repeatable from 1.24.
    let names = |b: &Value| {
        let mut n: Vec<String> = b["resource_providers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        n.sort();
        n
    };
    let list =
        |v: &'static str, q: String| call(v, Method::GET, format!("/resource_providers?{q}"), None);
    let (_, b) = list("1.32", format!("member_of=!{AGG}")).await;
    assert_eq!(
        names(&b),
        ["lone-box", "site-1-n1", "site-1-n1-gpu", "site-1-n2"],
        "{b}"
    );
    let (_, b) = list("1.24", format!("member_of={AGG}&member_of=in:{AGG},{LONE}")).await;
    assert_eq!(names(&b), ["site-1"], "{b}");
    let (s, _) = list("1.23", format!("member_of={AGG}&member_of={AGG}")).await;
    assert_eq!(s, 400, "repeated member_of is 1.24");

    // A VM with a GPU: the GPU's group on the GPU, the rest from the tree.
    let (s, c) = get(
        "1.29",
        "resources=VCPU:2&resources1=VGPU:1&required1=HW_GPU_API_VULKAN&group_policy=isolate",
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(shapes(&c), ["gpu:VGPU=1 n1:VCPU=2", "gpu:VGPU=1 n2:VCPU=2"]);
    let (_, c) = get(
        "1.29",
        "resources=VCPU:2&resources1=VGPU:1&required1=CUSTOM_NOPE&group_policy=none",
    )
    .await;
    assert_eq!(c["errors"][0]["status"], 400, "an unknown trait: {c}");

    // limit (1.16), and summaries of every class from 1.27.
    let (_, c) = get("1.16", "resources=VCPU:1&limit=1").await;
    assert_eq!(c["allocation_requests"].as_array().unwrap().len(), 1);
    let (_, c) = get("1.27", "resources=VCPU:1&required=HW_CPU_X86_AVX2").await;
    assert_eq!(
        c["provider_summaries"][N1]["resources"]["MEMORY_MB"]["capacity"],
        8192
    );

    // 1.33 named groups; 1.34 which providers served each group.
    let (s, c) = get(
        "1.34",
        &format!("resources_CPU=VCPU:2&resources_GPU=VGPU:1&required_GPU=HW_GPU_API_VULKAN&group_policy=isolate&in_tree_CPU={N1}"),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(shapes(&c), ["gpu:VGPU=1 n1:VCPU=2", "gpu:VGPU=1 n2:VCPU=2"]);
    for r in c["allocation_requests"].as_array().unwrap() {
        let cpu = r["allocations"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, a)| a["resources"].get("VCPU").is_some())
            .map(|(p, _)| p.clone())
            .unwrap();
        assert_eq!(r["mappings"], json!({"_CPU": [cpu], "_GPU": [GPU]}), "{r}");
    }
    let (_, c) = get("1.33", "resources_CPU=VCPU:2").await;
    assert!(c["allocation_requests"][0].get("mappings").is_none(), "{c}");
    let (s, _) = get("1.32", "resources_CPU=VCPU:2").await;
    assert_eq!(s, 400, "string suffixes are 1.33");

    // Claiming a candidate as returned (mappings and all, 1.34); it then
    // counts as used.
    let (_, c) = get(
        "1.34",
        "resources1=VCPU:8,MEMORY_MB:1024&required1=HW_CPU_X86_AVX2",
    )
    .await;
    let allocations = c["allocation_requests"][0]["allocations"].clone();
    let mappings = c["allocation_requests"][0]["mappings"].clone();
    assert_eq!(mappings, json!({"1": [N1]}));
    let claim = json!({"allocations": allocations, "mappings": mappings, "project_id": "p", "user_id": "u", "consumer_generation": null});
    let mut bad = claim.clone();
    bad["mappings"] = json!({"1": ["not-a-uuid"]});
    let (s, _) = call(
        "1.34",
        Method::PUT,
        "/allocations/a7000000-0000-4000-8000-000000000000".into(),
        Some(bad),
    )
    .await;
    assert_eq!(s, 400, "mappings are checked");
    let (s, _) = call(
        "1.33",
        Method::PUT,
        "/allocations/a7000000-0000-4000-8000-000000000000".into(),
        Some(claim.clone()),
    )
    .await;
    assert_eq!(s, 400, "mappings in a claim are 1.34");
    let (s, err) = call(
        "1.34",
        Method::PUT,
        "/allocations/a7000000-0000-4000-8000-000000000000".into(),
        Some(claim),
    )
    .await;
    assert_eq!(s, 204, "{err}");
    let (_, c) = get("1.29", "resources=VCPU:1&required=HW_CPU_X86_AVX2").await;
    assert!(shapes(&c).is_empty(), "n1's VCPUs are all taken: {c}");
    let (_, c) = get("1.29", "resources=MEMORY_MB:1").await;
    assert_eq!(
        c["provider_summaries"][N1]["resources"]["VCPU"],
        json!({"capacity": 8, "used": 8})
    );

    // Bad requests name what is wrong.
    for (v, q, needle) in [
        ("1.29", "", "resources"),
        ("1.29", "resources=VCPU", "resources"),
        ("1.29", "resources=CUSTOM_NOPE:1", "CUSTOM_NOPE"),
        (
            "1.29",
            "resources=VCPU:1&required=CUSTOM_NOPE",
            "CUSTOM_NOPE",
        ),
        ("1.29", "resources=VCPU:1&member_of=nope", "member_of"),
        ("1.29", "resources=VCPU:1&limit=-1", "limit"),
        (
            "1.29",
            "resources1=VCPU:1&resources2=VGPU:1",
            "group_policy",
        ),
        (
            "1.29",
            "resources=VCPU:1&group_policy=sometimes",
            "group_policy",
        ),
        (
            "1.16",
            "resources=VCPU:1&required=HW_CPU_X86_AVX2",
            "required",
        ),
    ] {
        let (s, err) = get(v, q).await;
        assert_eq!(s, 400, "{q}: {err}");
        let detail = err["errors"][0]["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{q}: {detail}");
    }

    // 1.35: root_required asks traits of the tree's root.
    let (_, t) = call(
        "1.35",
        Method::GET,
        format!("/resource_providers/{LONE}/traits"),
        None,
    )
    .await;
    let body = json!({"resource_provider_generation": t["resource_provider_generation"], "traits": ["HW_CPU_X86_SSE"]});
    let (s, t) = call(
        "1.35",
        Method::PUT,
        format!("/resource_providers/{LONE}/traits"),
        Some(body),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let (_, c) = get("1.35", "resources=MEMORY_MB:1&root_required=HW_CPU_X86_SSE").await;
    assert_eq!(shapes(&c), ["lone:MEMORY_MB=1"], "{c}");
    let (_, c) = get(
        "1.35",
        "resources1=MEMORY_MB:1&root_required=!HW_CPU_X86_SSE",
    )
    .await;
    assert_eq!(
        shapes(&c),
        ["n1:MEMORY_MB=1", "n2:MEMORY_MB=1"],
        "the site's tree: {c}"
    );
    let (s, _) = get("1.34", "resources=MEMORY_MB:1&root_required=HW_CPU_X86_SSE").await;
    assert_eq!(s, 400, "root_required is 1.35");
    let (s, err) = get("1.35", "resources=MEMORY_MB:1&root_required=CUSTOM_NOPE").await;
    assert_eq!(s, 400);
    assert!(err.to_string().contains("CUSTOM_NOPE"), "{err}");

    same_subtree_and_any_traits(cloud, &admin).await;
    sharing_providers(cloud, &admin).await;
}

/// 1.36: `same_subtree` and resourceless groups; 1.39: `required=in:`.
async fn same_subtree_and_any_traits(cloud: &Cloud, admin: &str) {
    let get = |v: &'static str, q: String| async move {
        let path = format!("/allocation_candidates?{q}");
        let (s, body, _) = placement(cloud, admin, v, Method::GET, &path, None).await;
        (s, body)
    };
    // n1's VCPU are all claimed by now: memory, then.
    let q = "resources_C=MEMORY_MB:1&resources_G=VGPU:1&group_policy=none";
    let (_, c) = get("1.36", q.into()).await;
    assert_eq!(
        shapes(&c),
        ["gpu:VGPU=1 n1:MEMORY_MB=1", "gpu:VGPU=1 n2:MEMORY_MB=1"],
        "{c}"
    );
    let (_, c) = get("1.36", format!("{q}&same_subtree=_C,_G")).await;
    assert_eq!(
        shapes(&c),
        ["gpu:VGPU=1 n1:MEMORY_MB=1"],
        "only n1 encloses the GPU: {c}"
    );
    // A group with traits and no resources names the node above the GPU.
    let q = "resources_G=VGPU:1&same_subtree=_G,_NODE&group_policy=none";
    let (s, c) = get("1.36", format!("{q}&required_NODE=HW_CPU_X86_AVX2")).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        shapes(&c),
        ["gpu:VGPU=1"],
        "the resourceless group takes nothing"
    );
    assert_eq!(
        c["allocation_requests"][0]["mappings"],
        json!({"_G": [GPU], "_NODE": [N1]})
    );
    let (_, c) = get("1.36", format!("{q}&required_NODE=HW_ARCH_AARCH64")).await;
    assert_eq!(
        shapes(&c),
        Vec::<String>::new(),
        "n2 has no GPU below it: {c}"
    );
    for (v, q, needle) in [
        (
            "1.36",
            "resources_G=VGPU:1&required_NODE=HW_CPU_X86_AVX2&group_policy=none",
            "Resourceless suffixed group request should be specified in `same_subtree` query param: bad group(s) - ['_NODE'].",
        ),
        (
            "1.36",
            "required_NODE=HW_CPU_X86_AVX2&same_subtree=_NODE",
            "There must be at least one resources or resources[$S] parameter.",
        ),
        (
            "1.36",
            "resources_G=VGPU:1&same_subtree=_G,_X",
            "Real suffixes should be specified in `same_subtree`: ['_X'] not found in ['_G'].",
        ),
        (
            "1.36",
            "resources_G=VGPU:1&same_subtree=_G,,_X",
            "Empty string (unsuffixed group) can not be specified in `same_subtree`",
        ),
        (
            "1.35",
            "resources_G=VGPU:1&same_subtree=_G",
            "'same_subtree' was unexpected",
        ),
        (
            "1.35",
            "resources_G=VGPU:1&required_NODE=HW_CPU_X86_AVX2&group_policy=none",
            "All request groups must specify resources",
        ),
        (
            "1.38",
            "resources=MEMORY_MB:1&required=in:HW_CPU_X86_AVX2,HW_ARCH_AARCH64",
            "only supported since microversion 1.39",
        ),
        (
            "1.39",
            "resources=MEMORY_MB:1&required=in:CUSTOM_NOPE,HW_ARCH_AARCH64",
            "CUSTOM_NOPE",
        ),
        (
            "1.39",
            "resources=MEMORY_MB:1&required=in:HW_CPU_X86_AVX2,!HW_ARCH_AARCH64",
            "does not support forbidden traits",
        ),
    ] {
        let (s, err) = get(v, q.into()).await;
        assert_eq!(s, 400, "{v} {q}: {err}");
        let detail = err["errors"][0]["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{v} {q}: {detail}");
    }

    // 1.39: any of the traits; repeated `required` all hold.
    let any = "resources=MEMORY_MB:1&required=in:HW_CPU_X86_AVX2,HW_ARCH_AARCH64";
    let (_, c) = get("1.39", any.into()).await;
    assert_eq!(
        shapes(&c),
        ["n1:MEMORY_MB=1", "n2:MEMORY_MB=1"],
        "not the lone box: {c}"
    );
    let (_, c) = get("1.39", format!("{any}&required=!HW_ARCH_AARCH64")).await;
    assert_eq!(shapes(&c), ["n1:MEMORY_MB=1"], "{c}");
    let path = "/resource_providers?required=in:HW_CPU_X86_AVX2,HW_ARCH_AARCH64";
    let (s, l, _) = placement(cloud, admin, "1.39", Method::GET, path, None).await;
    assert_eq!(s, 200, "{l}");
    let mut names: Vec<&str> = l["resource_providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["site-1-n1", "site-1-n2"]);
}

/// A provider with `MISC_SHARES_VIA_AGGREGATE` (a site's shared storage)
/// serves the trees of its aggregates: with the site's aggregate, the
/// site's nodes take disk from it, the lone box does not.
async fn sharing_providers(cloud: &Cloud, admin: &str) {
    let call = |v: &'static str, m: Method, p: String, b: Option<Value>| async move {
        let (s, body, _) = placement(cloud, admin, v, m, &p, b).await;
        (s, body)
    };
    let ss = json!({"name": "site-1-storage", "uuid": SS});
    assert_eq!(
        call("1.29", Method::POST, "/resource_providers".into(), Some(ss))
            .await
            .0,
        200
    );
    let inv =
        json!({"resource_provider_generation": 0, "inventories": {"DISK_GB": {"total": 1000}}});
    let (s, e) = call(
        "1.29",
        Method::PUT,
        format!("/resource_providers/{SS}/inventories"),
        Some(inv),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    let get = |v: &'static str, q: &'static str| {
        call(v, Method::GET, format!("/allocation_candidates?{q}"), None)
    };
    let q = "resources=MEMORY_MB:1,DISK_GB:100";
    let (_, c) = get("1.29", q).await;
    assert_eq!(
        shapes(&c),
        Vec::<String>::new(),
        "neither the trait nor an aggregate yet: {c}"
    );
    let traits =
        json!({"resource_provider_generation": 1, "traits": ["MISC_SHARES_VIA_AGGREGATE"]});
    let (s, e) = call(
        "1.29",
        Method::PUT,
        format!("/resource_providers/{SS}/traits"),
        Some(traits),
    )
    .await;
    assert_eq!(s, 200, "{e}");
    let (_, c) = get("1.29", q).await;
    assert_eq!(shapes(&c), Vec::<String>::new(), "no aggregate yet: {c}");
    let aggs = json!({"resource_provider_generation": 2, "aggregates": [AGG]});
    let (s, e) = call(
        "1.29",
        Method::PUT,
        format!("/resource_providers/{SS}/aggregates"),
        Some(aggs),
    )
    .await;
    assert_eq!(s, 200, "{e}");

    let want = [
        "n1:MEMORY_MB=1 ss:DISK_GB=100",
        "n2:MEMORY_MB=1 ss:DISK_GB=100",
    ];
    for v in ["1.10", "1.29"] {
        let (s, c) = get(v, q).await;
        assert_eq!(s, 200, "{c}");
        let listed = if v == "1.10" {
            // The 1.10 list form.
            let n = c["allocation_requests"].as_array().unwrap().len();
            assert_eq!(n, 2, "{c}");
            assert!(c["provider_summaries"][SS].is_object(), "{c}");
            continue;
        } else {
            shapes(&c)
        };
        assert_eq!(listed, want, "{v}: {c}");
    }
    let (_, c) = get("1.34", q).await;
    assert_eq!(
        c["allocation_requests"][0]["mappings"][""]
            .as_array()
            .map(Vec::len),
        Some(2),
        "the unnumbered group maps to the node and the storage: {c}"
    );
    let (_, c) = get("1.29", "resources1=DISK_GB:100").await;
    assert_eq!(
        shapes(&c),
        ["ss:DISK_GB=100"],
        "once, whatever trees it serves: {c}"
    );
    let (_, c) = get(
        "1.31",
        "resources=MEMORY_MB:1,DISK_GB:100&in_tree=a1000000-0000-4000-8000-000000000001",
    )
    .await;
    assert_eq!(
        shapes(&c),
        Vec::<String>::new(),
        "in_tree leaves it out: {c}"
    );

    // A claim of a candidate takes the disk from the shared provider.
    let (_, c) = get("1.29", q).await;
    let mut claim = c["allocation_requests"][0].clone();
    claim["project_id"] = json!("p1");
    claim["user_id"] = json!("u1");
    claim["consumer_generation"] = json!(null);
    let consumer = "a4000000-0000-4000-8000-000000000000";
    let (s, e) = call(
        "1.29",
        Method::PUT,
        format!("/allocations/{consumer}"),
        Some(claim),
    )
    .await;
    assert_eq!(s, 204, "{e}");
    let (_, u) = call(
        "1.29",
        Method::GET,
        format!("/resource_providers/{SS}/usages"),
        None,
    )
    .await;
    assert_eq!(u["usages"]["DISK_GB"], 100, "{u}");
    assert_eq!(
        call(
            "1.29",
            Method::DELETE,
            format!("/allocations/{consumer}"),
            None
        )
        .await
        .0,
        204
    );
}
