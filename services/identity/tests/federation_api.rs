//! `/v3/OS-FEDERATION` identity providers, mappings and protocols over
//! HTTP: Keystone's shapes and status codes, Virga's `oidc` block (its
//! secret never shown), and the errors a careful administrator meets.

#[macro_use]
mod common;

use serde_json::{Value, json};

use common::api::Api;

api_on_both!(
    providers,
    mappings_and_protocols,
    members_cannot_manage_federation
);

const ISSUER: &str = "http://127.0.0.1:9/idp";

async fn put(api: &Api, path: &str, body: Value) -> common::api::Reply {
    api.call(
        reqwest::Method::PUT,
        path,
        Some(&api.admin_token),
        Some(body),
    )
    .await
}

async fn providers(api: &Api) {
    let r = put(
        api,
        "/v3/OS-FEDERATION/identity_providers/corp",
        json!({"identity_provider": {"domain_id": "default", "description": "Corp SSO",
            "enabled": true, "oidc": {"issuer": ISSUER, "client_id": "virga",
            "client_secret": "s3cret", "scopes": ["openid", "email", "groups"]}}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let base = format!("{}/v3/OS-FEDERATION/identity_providers/corp", api.url);
    assert_eq!(
        r.body["identity_provider"],
        json!({"id": "corp", "domain_id": "default", "description": "Corp SSO", "enabled": true,
            "remote_ids": [ISSUER], "authorization_ttl": null,
            "oidc": {"issuer": ISSUER, "client_id": "virga",
                "scopes": ["openid", "email", "groups"], "client_secret_set": true},
            "links": {"self": base, "protocols": format!("{base}/protocols")}})
    );
    assert!(!r.body.to_string().contains("s3cret"));

    // No domain: a fresh one is made; enabled defaults to false (Keystone).
    let r = put(
        api,
        "/v3/OS-FEDERATION/identity_providers/partner",
        json!({"identity_provider": {"remote_ids": ["https://partner.example"]}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let idp = &r.body["identity_provider"];
    assert_eq!(idp["enabled"], false);
    assert!(idp.get("oidc").is_none());
    let domain = idp["domain_id"].as_str().unwrap();
    assert_ne!(domain, "default");
    let d = api
        .get(&format!("/v3/domains/{domain}"), &api.admin_token)
        .await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert!(
        d.body["domain"]["description"]
            .as_str()
            .unwrap()
            .contains("partner")
    );

    // Duplicate id, a remote id another provider has, an unknown domain.
    let again = json!({"identity_provider": {"domain_id": "default"}});
    let r = put(api, "/v3/OS-FEDERATION/identity_providers/corp", again).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = put(
        api,
        "/v3/OS-FEDERATION/identity_providers/copy",
        json!({"identity_provider": {"domain_id": "default", "remote_ids": [ISSUER]}}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.to_string().contains("Duplicate remote ID"),
        "{}",
        r.body
    );
    let r = put(
        api,
        "/v3/OS-FEDERATION/identity_providers/lost",
        json!({"identity_provider": {"domain_id": "nope"}}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // The failed creations left nothing behind.
    let r = api
        .get(
            "/v3/OS-FEDERATION/identity_providers/copy",
            &api.admin_token,
        )
        .await;
    assert_eq!(r.status, 404);

    // Bad settings, each named.
    for (body, field) in [
        (
            json!({"oidc": {"issuer": "http://idp.example", "client_id": "v"}}),
            "oidc/issuer",
        ),
        (
            json!({"oidc": {"issuer": "ftp://idp", "client_id": "v"}}),
            "oidc/issuer",
        ),
        (
            json!({"oidc": {"issuer": ISSUER, "client_id": ""}}),
            "oidc/client_id",
        ),
        (
            json!({"oidc": {"issuer": ISSUER, "client_id": "v", "scopes": ["email"]}}),
            "oidc/scopes",
        ),
        (json!({"remote_ids": ["a", "a"]}), "remote_ids"),
        (json!({"authorization_ttl": -1}), "authorization_ttl"),
        (json!({"nickname": "x"}), "nickname"),
        (json!({"id": "other"}), "identity_provider/id"),
    ] {
        let r = put(
            api,
            "/v3/OS-FEDERATION/identity_providers/bad",
            json!({ "identity_provider": body }),
        )
        .await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.body.to_string().contains(field), "{field}: {}", r.body);
    }

    // PATCH: the domain is fixed; remote ids are replaced; the secret kept.
    let path = "/v3/OS-FEDERATION/identity_providers/corp";
    let r = api
        .patch(
            path,
            &api.admin_token,
            json!({"identity_provider": {"domain_id": "x"}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = api
        .patch(
            path,
            &api.admin_token,
            json!({"identity_provider": {"remote_ids": [ISSUER, "urn:corp"],
                "description": null, "authorization_ttl": 30}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let idp = &r.body["identity_provider"];
    assert_eq!(idp["remote_ids"], json!([ISSUER, "urn:corp"]));
    assert_eq!(idp["description"], Value::Null);
    assert_eq!(idp["authorization_ttl"], 30);
    assert_eq!(idp["oidc"]["client_secret_set"], true);

    // Lists and filters.
    let r = api
        .get("/v3/OS-FEDERATION/identity_providers", &api.admin_token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["identity_providers"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["links"]["next"], Value::Null);
    let r = api
        .get(
            "/v3/OS-FEDERATION/identity_providers?enabled=false",
            &api.admin_token,
        )
        .await;
    let ids: Vec<_> = r.body["identity_providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(ids, [json!("partner")]);

    let r = api.delete(path, &api.admin_token).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = api.get(path, &api.admin_token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    // Its remote ids are free again.
    let r = put(
        api,
        "/v3/OS-FEDERATION/identity_providers/corp2",
        json!({"identity_provider": {"domain_id": "default", "remote_ids": ["urn:corp"]}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn mappings_and_protocols(api: &Api) {
    let rules = json!([{"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "sub"}]}]);
    let r = put(
        api,
        "/v3/OS-FEDERATION/mappings/m1",
        json!({"mapping": {"rules": rules}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["mapping"],
        json!({"id": "m1", "rules": rules, "schema_version": "1.0",
            "links": {"self": format!("{}/v3/OS-FEDERATION/mappings/m1", api.url)}})
    );
    let r = put(
        api,
        "/v3/OS-FEDERATION/mappings/m1",
        json!({"mapping": {"rules": rules}}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);

    // Broken rules are refused when stored, naming what is wrong.
    for (bad, says) in [
        (json!([]), "at least one rule"),
        (
            json!([{"local": [{"user": {"name": "{1}"}}], "remote": [{"type": "sub"}]}]),
            "{1}",
        ),
        (
            json!([{"local": [{"usr": {}}], "remote": [{"type": "sub"}]}]),
            "usr",
        ),
        (json!("x"), "rules"),
    ] {
        let r = put(
            api,
            "/v3/OS-FEDERATION/mappings/bad",
            json!({"mapping": {"rules": bad}}),
        )
        .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body.to_string().contains(says), "{says}: {}", r.body);
    }
    let r = put(
        api,
        "/v3/OS-FEDERATION/mappings/bad",
        json!({"mapping": {"rules": rules, "schema_version": "9.9"}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);

    let groups = json!([{"local": [{"groups": "{0}", "domain": {"id": "default"}}],
        "remote": [{"type": "groups"}]}]);
    let r = api
        .patch(
            "/v3/OS-FEDERATION/mappings/m1",
            &api.admin_token,
            json!({"mapping": {"rules": groups, "schema_version": "2.0"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["mapping"]["rules"], groups);
    assert_eq!(r.body["mapping"]["schema_version"], "2.0");
    let r = api
        .get("/v3/OS-FEDERATION/mappings", &api.admin_token)
        .await;
    assert_eq!(
        r.body["mappings"].as_array().unwrap().len(),
        1,
        "{}",
        r.body
    );

    // Protocols.
    let idp = json!({"identity_provider": {"domain_id": "default"}});
    let r = put(api, "/v3/OS-FEDERATION/identity_providers/corp", idp).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let protocols = "/v3/OS-FEDERATION/identity_providers/corp/protocols";
    let r = put(
        api,
        &format!("{protocols}/openid"),
        json!({"protocol": {"mapping_id": "nope"}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.to_string().contains("Invalid mapping id: nope"),
        "{}",
        r.body
    );
    let r = put(
        api,
        "/v3/OS-FEDERATION/identity_providers/ghost/protocols/openid",
        json!({"protocol": {"mapping_id": "m1"}}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = put(
        api,
        &format!("{protocols}/openid"),
        json!({"protocol": {"mapping_id": "m1"}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let idp_url = format!("{}/v3/OS-FEDERATION/identity_providers/corp", api.url);
    assert_eq!(
        r.body["protocol"],
        json!({"id": "openid", "mapping_id": "m1",
            "links": {"self": format!("{idp_url}/protocols/openid"), "identity_provider": idp_url}})
    );
    let r = put(
        api,
        &format!("{protocols}/openid"),
        json!({"protocol": {"mapping_id": "m1"}}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = api.get(protocols, &api.admin_token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = &r.body["protocols"][0];
    assert_eq!(listed["idp_id"], "corp");
    assert_eq!(listed["remote_id_attribute"], Value::Null);

    // A mapping in use cannot go; PATCH needs a mapping id.
    let r = api
        .delete("/v3/OS-FEDERATION/mappings/m1", &api.admin_token)
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = api
        .patch(
            &format!("{protocols}/openid"),
            &api.admin_token,
            json!({"protocol": {}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);

    let r = api
        .delete(&format!("{protocols}/openid"), &api.admin_token)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = api
        .get(&format!("{protocols}/openid"), &api.admin_token)
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = api
        .delete("/v3/OS-FEDERATION/mappings/m1", &api.admin_token)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

async fn members_cannot_manage_federation(api: &Api) {
    let p = api.project("p").await;
    let u = api.user("mia", "mia-secret-1").await;
    api.grant(&p, &u, "member").await;
    let token = api.token("mia", "mia-secret-1", Some("p")).await;
    let r = api
        .get("/v3/OS-FEDERATION/identity_providers", &token)
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = api
        .call(
            reqwest::Method::PUT,
            "/v3/OS-FEDERATION/mappings/m",
            Some(&token),
            Some(json!({"mapping": {"rules": []}})),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
}
