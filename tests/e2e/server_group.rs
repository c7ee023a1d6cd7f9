//! The compute service's server groups, as Nova 2.1 serves them: made in
//! the caller's project with one policy, seen by the project (others get
//! 404, admins list all with `all_projects`), pages, Nova's checks, the
//! project's `server_groups` quota.

use serde_json::{Value, json};
use virga_tests::Cloud;

use crate::nova::{callers, message};

crate::on_both_backends!(server_groups);

fn ids(v: &Value) -> Vec<String> {
    v["server_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn server_groups(cloud: &Cloud) {
    let (admin, alpha, alpha_project, beta) = callers(cloud).await;
    let (s, v) = alpha
        .post(
            "/v2.1/os-server-groups",
            json!({"server_group": {"name": "web", "policies": ["anti-affinity"]}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let g = &v["server_group"];
    assert_eq!(g["policies"], json!(["anti-affinity"]));
    assert_eq!(g["members"], json!([]));
    assert_eq!(g["metadata"], json!({}));
    let web = g["id"].as_str().unwrap().to_owned();
    let (_, v) = alpha
        .post(
            "/v2.1/os-server-groups",
            json!({"server_group": {"name": "db", "policies": ["affinity"]}}),
        )
        .await;
    let db = v["server_group"]["id"].as_str().unwrap().to_owned();
    let (_, v) = beta
        .post(
            "/v2.1/os-server-groups",
            json!({"server_group": {"name": "web", "policies": ["affinity"]}}),
        )
        .await;
    let theirs = v["server_group"]["id"].as_str().unwrap().to_owned();

    // Each project sees its own; admins all on request; pages.
    assert_eq!(
        ids(&alpha.get("/v2.1/os-server-groups").await.1),
        [web.clone(), db.clone()]
    );
    assert_eq!(
        ids(&beta.get("/v2.1/os-server-groups").await.1),
        std::slice::from_ref(&theirs)
    );
    assert_eq!(
        ids(&alpha
            .get("/v2.1/os-server-groups?all_projects=True")
            .await
            .1)
        .len(),
        2,
        "only admins see all"
    );
    assert_eq!(
        ids(&admin
            .get("/v2.1/os-server-groups?all_projects=True")
            .await
            .1)
        .len(),
        3
    );
    assert_eq!(
        ids(&admin.get("/v2.1/os-server-groups").await.1).len(),
        0,
        "an admin's own project"
    );
    assert_eq!(
        ids(&alpha.get("/v2.1/os-server-groups?limit=1&offset=1").await.1),
        std::slice::from_ref(&db)
    );
    let (s, v) = alpha.get(&format!("/v2.1/os-server-groups/{web}")).await;
    assert_eq!((s, v["server_group"]["name"].as_str()), (200, Some("web")));
    let (s, v) = alpha.get(&format!("/v2.1/os-server-groups/{theirs}")).await;
    assert_eq!(s, 404, "{v}");
    assert_eq!(
        message(&v),
        format!("Server group {theirs} could not be found.")
    );
    assert_eq!(
        alpha
            .delete(&format!("/v2.1/os-server-groups/{theirs}"))
            .await
            .0,
        404
    );

    // Refusals, in Nova's words.
    for body in [
        json!({"server_group": {"name": "x", "policies": ["soft-affinity"]}}),
        json!({"server_group": {"name": "x", "policies": ["affinity", "anti-affinity"]}}),
        json!({"server_group": {"name": "x", "policies": []}}),
        json!({"server_group": {"name": "x"}}),
        json!({"server_group": {"name": "", "policies": ["affinity"]}}),
        json!({"server_group": {"name": "x", "policies": ["affinity"], "rules": {}}}),
    ] {
        let (s, v) = alpha.post("/v2.1/os-server-groups", body.clone()).await;
        assert_eq!(s, 400, "{body}: {v}");
    }
    assert_eq!(alpha.get("/v2.1/os-server-groups?offset=x").await.0, 400);

    // The project's server_groups quota.
    let quota = format!("/v2.1/os-quota-sets/{alpha_project}");
    let (s, _) = admin
        .put(&quota, json!({"quota_set": {"server_groups": 2}}))
        .await;
    assert_eq!(s, 200);
    let (s, v) = alpha
        .post(
            "/v2.1/os-server-groups",
            json!({"server_group": {"name": "third", "policies": ["affinity"]}}),
        )
        .await;
    assert_eq!(
        (s, message(&v).as_str()),
        (403, "Quota exceeded, too many server groups.")
    );

    assert_eq!(
        alpha
            .delete(&format!("/v2.1/os-server-groups/{web}"))
            .await
            .0,
        204
    );
    assert_eq!(
        alpha.get(&format!("/v2.1/os-server-groups/{web}")).await.0,
        404
    );
    let (s, _) = alpha
        .post(
            "/v2.1/os-server-groups",
            json!({"server_group": {"name": "third", "policies": ["affinity"]}}),
        )
        .await;
    assert_eq!(s, 200, "room again");
    assert_eq!(
        admin
            .delete(&format!("/v2.1/os-server-groups/{theirs}"))
            .await
            .0,
        204,
        "admins may"
    );
}
