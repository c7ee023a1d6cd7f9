//! The compute service's key pairs, as Nova serves them: imported
//! public keys (RSA, ECDSA, Ed25519) with OpenSSH's MD5 fingerprints, key
//! pairs made here (the private key returned once), each user's own,
//! Nova's checks and messages.

use base64::Engine;
use md5::{Digest, Md5};
use reqwest::Method;
use serde_json::json;
use virga_tests::Cloud;

use crate::nova::{callers, message};

crate::on_both_backends!(key_pairs);
crate::on_both_backends!(key_pairs_at_later_microversions);

/// Public keys made with `ssh-keygen`, and the fingerprints
/// `ssh-keygen -l -E md5` gives them.
const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC00zZR2Nb6/ZugcKJHwmATrs0k3JauIDhg+WMXe2DZuxspuYT7l+xtciMIqltzcmsWgTvR/PMpcJdiQggzuEAS53DZeMeMQwzo2SFM+y2PYKtcMwvt9lKyHobS6REg+spDHrqnrLEOtZm+cOBGwymlXHoR4Kf3VQbzL7azzSK/8L6uLqsOt4jNeQvWf//fKDrHkK2ubI2llqz0HOIkEmsj1VtQX8Mlbrp1chTqd80QV8d5bxQFvxnIpFgoO9e+WjMZVdNxuPyt0/GWLpRTAmBMGaslnsVSHG6tYnjtyazm3d/tdc8HHKZPFmk9QvlwH+uJoCDvNyhuNo39Bwj8gg43 test@virga";
const RSA_MD5: &str = "a8:50:67:1a:2d:06:a3:da:a3:26:49:5c:46:b2:8a:0e";
const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCpGgK1oidJt42WRZBvwZI10z/+eF2VaUHM3FvnOzDceUS4oMB2Ktcm24/jaKyxFKbyxeIG0d03h/pMWTd9uux4= test@virga";
const ECDSA_MD5: &str = "8c:46:a4:6f:43:84:0a:12:83:d4:18:3b:07:5c:1b:e5";

async fn key_pairs(cloud: &Cloud) {
    let (admin, alpha, _, beta) = callers(cloud).await;
    let (s, v) = alpha
        .post(
            "/v2.1/os-keypairs",
            json!({"keypair": {"name": "laptop", "public_key": RSA}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["keypair"]["fingerprint"], RSA_MD5);
    assert_eq!(v["keypair"]["public_key"], RSA);
    assert!(v["keypair"].get("private_key").is_none(), "{v}");
    let (s, v) = alpha
        .post(
            "/v2.1/os-keypairs",
            json!({"keypair": {"name": "ci key", "public_key": ECDSA}}),
        )
        .await;
    assert_eq!(
        (s, v["keypair"]["fingerprint"].as_str()),
        (200, Some(ECDSA_MD5)),
        "{v}"
    );

    // Made here: an Ed25519 pair, the private half returned once.
    let (s, v) = beta
        .post("/v2.1/os-keypairs", json!({"keypair": {"name": "laptop"}}))
        .await;
    assert_eq!(s, 200, "{v}");
    let made = &v["keypair"];
    let private = made["private_key"].as_str().unwrap();
    assert!(
        private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"),
        "{made}"
    );
    let public = made["public_key"].as_str().unwrap();
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    let blob = base64::engine::general_purpose::STANDARD
        .decode(public.split_whitespace().nth(1).unwrap())
        .unwrap();
    let fp: Vec<String> = Md5::digest(&blob)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(made["fingerprint"], fp.join(":"));
    let (s, v) = beta.get("/v2.1/os-keypairs/laptop").await;
    assert_eq!(s, 200);
    assert!(v["keypair"].get("private_key").is_none(), "never kept: {v}");
    assert_eq!(v["keypair"]["deleted"], false);
    assert!(v["keypair"]["id"].is_number(), "{v}");

    // Each user's own: same names, separate lists, others' are 404.
    let (_, v) = alpha.get("/v2.1/os-keypairs").await;
    let names: Vec<&str> = v["keypairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keypair"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ci key", "laptop"]);
    let (_, v) = beta.get("/v2.1/os-keypairs").await;
    assert_eq!(v["keypairs"].as_array().unwrap().len(), 1);
    assert_eq!(v["keypairs"][0]["keypair"]["public_key"], public);
    let (_, v) = admin.get("/v2.1/os-keypairs").await;
    assert_eq!(v, json!({"keypairs": []}), "an admin's own list");

    // Refusals, in Nova's words.
    for (body, status, says) in [
        (
            json!({"keypair": {"name": "laptop", "public_key": ECDSA}}),
            409,
            "Key pair 'laptop' already exists.",
        ),
        (
            json!({"keypair": {"name": "x", "public_key": "ssh-rsa not-a-key"}}),
            400,
            "Keypair data is invalid: failed to generate fingerprint",
        ),
        (
            json!({"keypair": {"name": "bad/name", "public_key": ECDSA}}),
            400,
            "Keypair data is invalid: Keypair name contains unsafe characters",
        ),
        (
            json!({"keypair": {"name": "", "public_key": ECDSA}}),
            400,
            "between 1 and 255 characters",
        ),
        (
            json!({"keypair": {"public_key": ECDSA}}),
            400,
            "'name' is a required property",
        ),
        (
            json!({"keypair": {"name": "x", "type": "x509"}}),
            400,
            "('type' was unexpected)",
        ),
    ] {
        let (s, v) = alpha.post("/v2.1/os-keypairs", body.clone()).await;
        assert_eq!(s, status, "{body}: {v}");
        assert!(message(&v).contains(says), "{body}: {v}");
    }
    let (s, v) = beta.get("/v2.1/os-keypairs/ci%20key").await;
    assert_eq!(s, 404, "{v}");
    assert!(
        message(&v).starts_with("Keypair ci key not found for user "),
        "{v}"
    );
    assert_eq!(beta.delete("/v2.1/os-keypairs/ci%20key").await.0, 404);
    assert_eq!(alpha.delete("/v2.1/os-keypairs/ci%20key").await.0, 202);
    assert_eq!(alpha.get("/v2.1/os-keypairs/ci%20key").await.0, 404);
    let (_, v) = alpha.get("/v2.1/os-keypairs/laptop").await;
    assert_eq!(
        v["keypair"]["public_key"], RSA,
        "alpha's laptop is still alpha's"
    );

    // At most 100 a user (Nova's default quota).
    for i in 1..100 {
        let (s, v) = beta
            .post(
                "/v2.1/os-keypairs",
                json!({"keypair": {"name": format!("k{i}"), "public_key": ECDSA}}),
            )
            .await;
        assert_eq!(s, 200, "{i}: {v}");
    }
    let (s, v) = beta
        .post(
            "/v2.1/os-keypairs",
            json!({"keypair": {"name": "one-too-many", "public_key": ECDSA}}),
        )
        .await;
    assert_eq!(
        (s, message(&v).as_str()),
        (403, "Quota exceeded, too many key pairs."),
        "{v}"
    );
    assert_eq!(
        alpha
            .post(
                "/v2.1/os-keypairs",
                json!({"keypair": {"name": "k1", "public_key": ECDSA}})
            )
            .await
            .0,
        200,
        "per user"
    );
}

/// 2.2: a `type` (an `x509` certificate made or imported), 201 on create
/// and 204 on delete; 2.10: an admin's calls for another user.
async fn key_pairs_at_later_microversions(cloud: &Cloud) {
    let (admin, alpha, _, beta) = callers(cloud).await;
    let made = beta
        .at(
            "2.2",
            Method::POST,
            "/v2.1/os-keypairs",
            Some(json!({"keypair": {"name": "winrm", "type": "x509"}})),
        )
        .await;
    assert_eq!(made.0, 201, "{}", made.1);
    let k = &made.1["keypair"];
    assert_eq!(k["type"], "x509", "{k}");
    let cert = k["public_key"].as_str().unwrap();
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"), "{k}");
    assert!(
        k["private_key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----"),
        "{k}"
    );
    let fp = k["fingerprint"].as_str().unwrap();
    assert_eq!(fp.split(':').count(), 20, "SHA-1: {fp}");
    let beta_id = k["user_id"].as_str().unwrap().to_owned();
    // Imported: the same certificate, the same fingerprint.
    let (s, v) = alpha
        .at(
            "2.2",
            Method::POST,
            "/v2.1/os-keypairs",
            Some(json!({"keypair": {"name": "winrm", "type": "x509", "public_key": cert}})),
        )
        .await;
    assert_eq!((s, &v["keypair"]["fingerprint"]), (201, &json!(fp)), "{v}");
    assert!(v["keypair"].get("private_key").is_none(), "{v}");
    // Shown with its type from 2.2 only.
    let (_, v) = beta
        .at("2.2", Method::GET, "/v2.1/os-keypairs/winrm", None)
        .await;
    assert_eq!(v["keypair"]["type"], "x509", "{v}");
    let (_, v) = beta.get("/v2.1/os-keypairs/winrm").await;
    assert!(v["keypair"].get("type").is_none(), "2.1: {v}");
    let (_, v) = beta.at("2.2", Method::GET, "/v2.1/os-keypairs", None).await;
    assert_eq!(v["keypairs"][0]["keypair"]["type"], "x509", "{v}");
    let (s, v) = beta
        .at(
            "2.2",
            Method::POST,
            "/v2.1/os-keypairs",
            Some(json!({"keypair": {"name": "ssh"}})),
        )
        .await;
    assert_eq!((s, &v["keypair"]["type"]), (201, &json!("ssh")), "{v}");
    for (version, body, says) in [
        (
            "2.2",
            json!({"keypair": {"name": "x", "type": "rsa"}}),
            "'rsa' is not one of ['ssh', 'x509']",
        ),
        (
            "2.2",
            json!({"keypair": {"name": "x", "type": "x509", "public_key": "not a certificate"}}),
            "Keypair data is invalid: failed to generate X509 fingerprint",
        ),
        (
            "2.9",
            json!({"keypair": {"name": "x", "user_id": beta_id}}),
            "('user_id' was unexpected)",
        ),
    ] {
        let (s, v) = alpha
            .at(
                version,
                Method::POST,
                "/v2.1/os-keypairs",
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(message(&v).contains(says), "{body}: {v}");
    }

    // 2.10: an admin acts for beta; a member may not.
    let (s, v) = admin
        .at(
            "2.10",
            Method::POST,
            "/v2.1/os-keypairs",
            Some(json!({"keypair": {"name": "given", "user_id": beta_id}})),
        )
        .await;
    assert_eq!((s, &v["keypair"]["user_id"]), (201, &json!(beta_id)), "{v}");
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["keypairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["keypair"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, v) = beta.get("/v2.1/os-keypairs").await;
    assert_eq!(names(&v), ["given", "ssh", "winrm"], "{v}");
    let of_beta = format!("/v2.1/os-keypairs?user_id={beta_id}");
    let (_, v) = admin.at("2.10", Method::GET, &of_beta, None).await;
    assert_eq!(names(&v), ["given", "ssh", "winrm"], "{v}");
    let (_, v) = admin.at("2.9", Method::GET, &of_beta, None).await;
    assert_eq!(
        names(&v),
        Vec::<String>::new(),
        "before 2.10, the caller's own"
    );
    let (s, v) = alpha.at("2.10", Method::GET, &of_beta, None).await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = alpha
        .at(
            "2.10",
            Method::POST,
            "/v2.1/os-keypairs",
            Some(json!({"keypair": {"name": "planted", "user_id": beta_id}})),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    let given = format!("/v2.1/os-keypairs/given?user_id={beta_id}");
    let (s, v) = admin.at("2.10", Method::GET, &given, None).await;
    assert_eq!((s, &v["keypair"]["user_id"]), (200, &json!(beta_id)), "{v}");
    assert_eq!(alpha.at("2.10", Method::DELETE, &given, None).await.0, 403);
    assert_eq!(admin.at("2.10", Method::DELETE, &given, None).await.0, 204);
    assert_eq!(beta.get("/v2.1/os-keypairs/given").await.0, 404);
    assert_eq!(
        beta.at("2.2", Method::DELETE, "/v2.1/os-keypairs/winrm", None)
            .await
            .0,
        204
    );
}
