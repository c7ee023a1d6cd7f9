//! The compute service's quota sets, as Nova 2.1 serves them: the
//! defaults, a project's readers see its own, admins set and revert
//! them, Nova's checks; the key pair limit follows the project's quota.

use serde_json::json;
use virga_tests::Cloud;

use crate::nova::{callers, message};

crate::on_both_backends!(quota_sets);

const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCpGgK1oidJt42WRZBvwZI10z/+eF2VaUHM3FvnOzDceUS4oMB2Ktcm24/jaKyxFKbyxeIG0d03h/pMWTd9uux4= test@virga";

async fn quota_sets(cloud: &Cloud) {
    let (admin, alpha, project, _) = callers(cloud).await;
    let path = format!("/v2.1/os-quota-sets/{project}");
    let (s, v) = alpha.get(&path).await;
    assert_eq!(s, 200, "{v}");
    let q = &v["quota_set"];
    assert_eq!(q["id"], project.as_str());
    for (k, want) in [
        ("instances", 10),
        ("cores", 20),
        ("ram", 51200),
        ("key_pairs", 100),
        ("metadata_items", 128),
        ("server_groups", 10),
        ("server_group_members", 10),
        ("fixed_ips", -1),
    ] {
        assert_eq!(q[k], want, "{k}: {q}");
    }
    assert_eq!(
        q.as_object().unwrap().len(),
        15,
        "Nova 2.1's fourteen and the id: {q}"
    );
    let (s, v) = alpha.get(&format!("{path}/defaults")).await;
    assert_eq!((s, v["quota_set"]["instances"].as_i64()), (200, Some(10)));

    // Only admins set; only the project's readers (and admins) read.
    let (s, admin_project) = admin.get("/v2.1/os-quota-sets/nope").await;
    assert_eq!(s, 400, "{admin_project}");
    assert_eq!(
        message(&admin_project),
        "Project ID nope is not a valid project."
    );
    let (s, _) = alpha
        .put(&path, json!({"quota_set": {"instances": 100}}))
        .await;
    assert_eq!(s, 403);
    let (s, v) = admin
        .put(
            &path,
            json!({"quota_set": {"instances": 20, "key_pairs": "2", "cores": -1, "force": true}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let q = &v["quota_set"];
    assert_eq!(
        (
            q["instances"].as_i64(),
            q["key_pairs"].as_i64(),
            q["cores"].as_i64()
        ),
        (Some(20), Some(2), Some(-1))
    );
    assert!(q.get("id").is_none(), "an update's answer has no id: {q}");
    assert_eq!(alpha.get(&path).await.1["quota_set"]["instances"], 20);
    for (body, says) in [
        (json!({"quota_set": {"gpus": 1}}), "('gpus' was unexpected)"),
        (
            json!({"quota_set": {"instances": -2}}),
            "-2 is less than the minimum of -1",
        ),
        (
            json!({"quota_set": {"instances": "many"}}),
            "does not match",
        ),
        (
            json!({"quota_set": {"force": "perhaps"}}),
            "is not a boolean",
        ),
    ] {
        let (s, v) = admin.put(&path, body.clone()).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(message(&v).contains(says), "{body}: {v}");
    }
    let (s, v) = admin.get(&format!("{path}?user_id=someone")).await;
    assert_eq!(s, 400, "{v}");

    // The key pair limit follows the project's quota.
    for name in ["a", "b"] {
        let (s, v) = alpha
            .post(
                "/v2.1/os-keypairs",
                json!({"keypair": {"name": name, "public_key": ECDSA}}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, v) = alpha
        .post(
            "/v2.1/os-keypairs",
            json!({"keypair": {"name": "c", "public_key": ECDSA}}),
        )
        .await;
    assert_eq!(
        (s, message(&v).as_str()),
        (403, "Quota exceeded, too many key pairs.")
    );

    // Reverted: the defaults again.
    assert_eq!(alpha.delete(&path).await.0, 403);
    assert_eq!(admin.delete(&path).await.0, 202);
    assert_eq!(alpha.get(&path).await.1["quota_set"]["instances"], 10);
    let (s, _) = alpha
        .post(
            "/v2.1/os-keypairs",
            json!({"keypair": {"name": "c", "public_key": ECDSA}}),
        )
        .await;
    assert_eq!(s, 200);
}
