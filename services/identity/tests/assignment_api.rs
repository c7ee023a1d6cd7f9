//! Role grants and `/v3/role_assignments` over HTTP: granting gives access,
//! revoking ends the tokens at once, groups and inherited domain grants,
//! the assignments listing with its filters, and who may do what.

#[macro_use]
mod common;

use reqwest::Method;
use serde_json::{Value, json};
use virga_identity::db::group;

use common::api::{Api, Reply};

api_on_both!(
    grant_then_login,
    revoke_ends_tokens,
    group_grant_gives_members_access,
    inherited_domain_grant_reaches_projects,
    role_assignments_listing,
    non_admin_limits,
);

async fn head(api: &Api, path: &str, token: &str) -> Reply {
    api.call(Method::HEAD, path, Some(token), None).await
}

/// A role created through the API; returns its id.
async fn new_role(api: &Api, name: &str) -> String {
    let r = api
        .post(
            "/v3/roles",
            &api.admin_token,
            json!({"role": {"name": name}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["role"]["id"].as_str().unwrap().to_string()
}

fn role_names(token_body: &Value) -> Vec<String> {
    token_body["token"]["roles"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn new_group(api: &Api, name: &str, members: &[&str]) -> String {
    let g = group::create(
        &api.db,
        group::NewGroup {
            name: name.into(),
            domain_id: "default".into(),
            description: None,
        },
    )
    .await
    .unwrap();
    for m in members {
        group::add_member(&api.db, &g.id, m).await.unwrap();
    }
    g.id
}

async fn grant_then_login(api: &Api) {
    let admin = &api.admin_token;
    let alice = api.user("alice", "alice-pw-1").await;
    let p = api.project("p1").await;
    let dev = new_role(api, "developer").await;
    assert_eq!(
        api.login("alice", "alice-pw-1", Some("p1")).await.status,
        401
    );

    let grant = format!("/v3/projects/{p}/users/{alice}/roles/{dev}");
    assert_eq!(
        head(api, &grant, admin).await.status,
        404,
        "not yet granted"
    );
    let r = api.put(&grant, admin).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.body, Value::Null, "no body");
    assert_eq!(api.put(&grant, admin).await.status, 204, "idempotent");
    assert_eq!(head(api, &grant, admin).await.status, 204);
    assert_eq!(api.get(&grant, admin).await.status, 204);

    let r = api.login("alice", "alice-pw-1", Some("p1")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(role_names(&r.body), ["developer"]);

    // The list of the user's roles on the project.
    let r = api
        .get(&format!("/v3/projects/{p}/users/{alice}/roles"), admin)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["roles"].as_array().unwrap().len(), 1, "{}", r.body);
    assert_eq!(r.body["roles"][0]["id"], dev);
    assert_eq!(r.body["roles"][0]["name"], "developer");
    assert_eq!(r.body["roles"][0]["domain_id"], json!(null));
    assert!(
        r.body["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/projects/{p}/users/{alice}/roles"))
    );

    // Another role is not granted; unknown parts are 404 naming them.
    let reader = api.role_id("reader").await;
    let other = format!("/v3/projects/{p}/users/{alice}/roles/{reader}");
    assert_eq!(head(api, &other, admin).await.status, 404);
    for (path, missing) in [
        (
            format!("/v3/projects/{p}/users/nobody/roles/{dev}"),
            "nobody",
        ),
        (
            format!("/v3/projects/{p}/users/{alice}/roles/norole"),
            "norole",
        ),
        (
            format!("/v3/projects/noproj/users/{alice}/roles/{dev}"),
            "noproj",
        ),
        (
            format!("/v3/domains/nodom/users/{alice}/roles/{dev}"),
            "nodom",
        ),
    ] {
        let r = api.put(&path, admin).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(missing), "{path}: {msg}");
    }

    // Domain and system grants.
    let domain_grant = format!("/v3/domains/default/users/{alice}/roles/{dev}");
    assert_eq!(api.put(&domain_grant, admin).await.status, 204);
    assert_eq!(head(api, &domain_grant, admin).await.status, 204);
    let r = api
        .get(&format!("/v3/domains/default/users/{alice}/roles"), admin)
        .await;
    assert_eq!(r.body["roles"][0]["id"], dev, "{}", r.body);
    let system_grant = format!("/v3/system/users/{alice}/roles/{reader}");
    assert_eq!(head(api, &system_grant, admin).await.status, 404);
    assert_eq!(api.put(&system_grant, admin).await.status, 204);
    assert_eq!(head(api, &system_grant, admin).await.status, 204);
    let r = api
        .get(&format!("/v3/system/users/{alice}/roles"), admin)
        .await;
    assert_eq!(r.body["roles"][0]["id"], reader, "{}", r.body);
}

async fn revoke_ends_tokens(api: &Api) {
    let admin = &api.admin_token;
    let alice = api.user("alice", "alice-pw-1").await;
    let p = api.project("p1").await;
    let member = api.role_id("member").await;
    let grant = format!("/v3/projects/{p}/users/{alice}/roles/{member}");
    assert_eq!(api.put(&grant, admin).await.status, 204);
    let token = api.token("alice", "alice-pw-1", Some("p1")).await;
    assert_eq!(api.get("/v3/auth/projects", &token).await.status, 200);

    let r = api.delete(&grant, admin).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(head(api, &grant, admin).await.status, 404);
    let r = api.get("/v3/auth/projects", &token).await;
    assert_eq!(r.status, 401, "the old token is revoked: {}", r.body);
    let r = api.login("alice", "alice-pw-1", Some("p1")).await;
    assert_eq!(r.status, 401, "no role left on the project: {}", r.body);
    let r = api.delete(&grant, admin).await;
    assert_eq!(r.status, 404, "not granted any more: {}", r.body);
    // The admin's own token is untouched.
    assert_eq!(api.get("/v3/roles", admin).await.status, 200);
}

async fn group_grant_gives_members_access(api: &Api) {
    let admin = &api.admin_token;
    let alice = api.user("alice", "alice-pw-1").await;
    let bob = api.user("bob", "bob-pw-1").await;
    let devs = new_group(api, "devs", &[&alice]).await;
    let p = api.project("p1").await;
    let member = api.role_id("member").await;
    let grant = format!("/v3/projects/{p}/groups/{devs}/roles/{member}");
    assert_eq!(api.put(&grant, admin).await.status, 204);
    assert_eq!(head(api, &grant, admin).await.status, 204);
    let r = api
        .get(&format!("/v3/projects/{p}/groups/{devs}/roles"), admin)
        .await;
    assert_eq!(r.body["roles"][0]["id"], member, "{}", r.body);

    let r = api.login("alice", "alice-pw-1", Some("p1")).await;
    assert_eq!(r.status, 201, "a member gets the group's role: {}", r.body);
    assert!(role_names(&r.body).contains(&"member".to_string()));
    let token = r.headers["x-subject-token"].to_str().unwrap().to_string();
    assert_eq!(
        api.login("bob", "bob-pw-1", Some("p1")).await.status,
        401,
        "not a member"
    );
    let _ = bob;

    assert_eq!(api.delete(&grant, admin).await.status, 204);
    assert_eq!(
        api.get("/v3/auth/projects", &token).await.status,
        401,
        "a member's token ends with the group's grant"
    );
    assert_eq!(
        api.login("alice", "alice-pw-1", Some("p1")).await.status,
        401
    );
}

async fn inherited_domain_grant_reaches_projects(api: &Api) {
    let admin = &api.admin_token;
    let alice = api.user("alice", "alice-pw-1").await;
    let p = api.project("p1").await;
    let member = api.role_id("member").await;
    let inherited = format!(
        "/v3/OS-INHERIT/domains/default/users/{alice}/roles/{member}/inherited_to_projects"
    );
    assert_eq!(head(api, &inherited, admin).await.status, 404);
    assert_eq!(api.put(&inherited, admin).await.status, 204);
    assert_eq!(head(api, &inherited, admin).await.status, 204);
    // Not a grant on the domain itself.
    let direct = format!("/v3/domains/default/users/{alice}/roles/{member}");
    assert_eq!(head(api, &direct, admin).await.status, 404);
    let r = api
        .get(
            &format!("/v3/OS-INHERIT/domains/default/users/{alice}/roles/inherited_to_projects"),
            admin,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["roles"][0]["id"], member, "{}", r.body);
    let r = api
        .get(&format!("/v3/domains/default/users/{alice}/roles"), admin)
        .await;
    assert_eq!(r.body["roles"], json!([]), "{}", r.body);

    let r = api.login("alice", "alice-pw-1", Some("p1")).await;
    assert_eq!(
        r.status, 201,
        "inherited onto the domain's project: {}",
        r.body
    );
    let _ = p;

    // Inherited from a project to the projects below it, not itself.
    let proj_inherited =
        format!("/v3/OS-INHERIT/projects/{p}/users/{alice}/roles/{member}/inherited_to_projects");
    assert_eq!(api.put(&proj_inherited, admin).await.status, 204);
    assert_eq!(head(api, &proj_inherited, admin).await.status, 204);
    assert_eq!(api.delete(&proj_inherited, admin).await.status, 204);
    assert_eq!(head(api, &proj_inherited, admin).await.status, 404);
}

/// The assignments of the listing whose user or group is `actor`.
fn of(body: &Value, key: &str, actor: &str) -> Vec<Value> {
    body["role_assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a[key]["id"] == actor)
        .cloned()
        .collect()
}

async fn role_assignments_listing(api: &Api) {
    let admin = &api.admin_token;
    let alice = api.user("alice", "alice-pw-1").await;
    let bob = api.user("bob", "bob-pw-1").await;
    let devs = new_group(api, "devs", &[&bob]).await;
    let p = api.project("p1").await;
    let member = api.role_id("member").await;
    let reader = api.role_id("reader").await;
    for path in [
        format!("/v3/projects/{p}/users/{alice}/roles/{member}"),
        format!("/v3/domains/default/users/{alice}/roles/{reader}"),
        format!("/v3/system/users/{alice}/roles/{reader}"),
        format!("/v3/projects/{p}/groups/{devs}/roles/{reader}"),
        format!("/v3/OS-INHERIT/domains/default/users/{bob}/roles/{member}/inherited_to_projects"),
    ] {
        assert_eq!(api.put(&path, admin).await.status, 204, "{path}");
    }

    let r = api
        .get(&format!("/v3/role_assignments?user.id={alice}"), admin)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.body["role_assignments"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{}", r.body);
    let project_one = list
        .iter()
        .find(|a| a["scope"].get("project").is_some())
        .unwrap();
    assert_eq!(
        *project_one,
        json!({"role": {"id": member}, "user": {"id": alice},
               "scope": {"project": {"id": p}},
               "links": {"assignment": format!("{}/v3/projects/{p}/users/{alice}/roles/{member}", api.url)}}),
        "implied roles are not listed"
    );
    let system_one = list
        .iter()
        .find(|a| a["scope"].get("system").is_some())
        .unwrap();
    assert_eq!(system_one["scope"], json!({"system": {"all": true}}));
    assert!(
        system_one["links"]["assignment"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/system/users/{alice}/roles/{reader}"))
    );
    assert!(
        r.body["links"]["self"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/role_assignments?user.id={alice}"))
    );
    assert_eq!(r.body["links"]["next"], json!(null));

    // Filters.
    let r = api
        .get(&format!("/v3/role_assignments?scope.project.id={p}"), admin)
        .await;
    let list = r.body["role_assignments"].as_array().unwrap();
    assert_eq!(list.len(), 2, "alice's and the group's: {}", r.body);
    assert_eq!(of(&r.body, "group", &devs)[0]["role"]["id"], reader);
    let r = api
        .get(
            &format!("/v3/role_assignments?user.id={alice}&role.id={reader}"),
            admin,
        )
        .await;
    assert_eq!(r.body["role_assignments"].as_array().unwrap().len(), 2);
    let r = api
        .get(
            &format!("/v3/role_assignments?user.id={alice}&scope.domain.id=default"),
            admin,
        )
        .await;
    assert_eq!(r.body["role_assignments"].as_array().unwrap().len(), 1);
    assert_eq!(
        r.body["role_assignments"][0]["scope"]["domain"]["id"],
        "default"
    );
    let r = api
        .get(
            &format!("/v3/role_assignments?user.id={alice}&scope.system=all"),
            admin,
        )
        .await;
    assert_eq!(r.body["role_assignments"].as_array().unwrap().len(), 1);
    let r = api
        .get(&format!("/v3/role_assignments?group.id={devs}"), admin)
        .await;
    assert_eq!(r.body["role_assignments"].as_array().unwrap().len(), 1);

    // Inherited assignments are marked, and filtered by inherited_to.
    let r = api
        .get(
            &format!("/v3/role_assignments?user.id={bob}&scope.OS-INHERIT:inherited_to=projects"),
            admin,
        )
        .await;
    let list = r.body["role_assignments"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", r.body);
    assert_eq!(list[0]["scope"]["OS-INHERIT:inherited_to"], "projects");
    assert_eq!(list[0]["scope"]["domain"]["id"], "default");
    assert!(
        list[0]["links"]["assignment"]
            .as_str()
            .unwrap()
            .ends_with(&format!(
                "/v3/OS-INHERIT/domains/default/users/{bob}/roles/{member}/inherited_to_projects"
            ))
    );
    let r = api
        .get(
            &format!("/v3/role_assignments?user.id={alice}&scope.OS-INHERIT:inherited_to=no"),
            admin,
        )
        .await;
    assert_eq!(r.body["role_assignments"].as_array().unwrap().len(), 3);

    // Effective: bob's group grant and inherited grant become his own, on p1.
    let r = api
        .get(&format!("/v3/role_assignments?user.id={bob}"), admin)
        .await;
    assert_eq!(
        r.body["role_assignments"].as_array().unwrap().len(),
        1,
        "{}",
        r.body
    );
    let r = api
        .get(
            &format!("/v3/role_assignments?user.id={bob}&effective&scope.project.id={p}"),
            admin,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.body["role_assignments"].as_array().unwrap();
    let mut roles: Vec<&str> = list
        .iter()
        .map(|a| {
            assert_eq!(a["user"]["id"], bob);
            assert!(a.get("group").is_none());
            assert_eq!(a["scope"]["project"]["id"], p);
            a["role"]["id"].as_str().unwrap()
        })
        .collect();
    roles.sort();
    let mut want = vec![member.as_str(), reader.as_str()];
    want.sort();
    assert_eq!(roles, want, "{}", r.body);
    // `effective=0` is not effective.
    let r = api
        .get(
            &format!("/v3/role_assignments?user.id={bob}&effective=0&scope.project.id={p}"),
            admin,
        )
        .await;
    assert_eq!(r.body["role_assignments"], json!([]), "{}", r.body);
    let r = api
        .get(
            &format!("/v3/role_assignments?group.id={devs}&effective"),
            admin,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = api
        .get(
            &format!("/v3/role_assignments?scope.project.id={p}&scope.domain.id=default"),
            admin,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);

    // Names.
    let r = api
        .get(
            &format!("/v3/role_assignments?user.id={alice}&include_names=false"),
            admin,
        )
        .await;
    let list = r.body["role_assignments"].as_array().unwrap();
    let project_one = list
        .iter()
        .find(|a| a["scope"].get("project").is_some())
        .unwrap();
    assert_eq!(project_one["role"], json!({"id": member, "name": "member"}));
    assert_eq!(
        project_one["user"],
        json!({"id": alice, "name": "alice", "domain": {"id": "default", "name": "Default"}})
    );
    assert_eq!(
        project_one["scope"]["project"],
        json!({"id": p, "name": "p1", "domain": {"id": "default", "name": "Default"}})
    );
    let domain_one = list
        .iter()
        .find(|a| a["scope"].get("domain").is_some())
        .unwrap();
    assert_eq!(
        domain_one["scope"]["domain"],
        json!({"id": "default", "name": "Default"})
    );
    let r = api
        .get(
            &format!("/v3/role_assignments?group.id={devs}&include_names"),
            admin,
        )
        .await;
    assert_eq!(r.body["role_assignments"][0]["group"]["name"], "devs");
    let r = api
        .get(
            &format!("/v3/role_assignments?user.id={alice}&include_names=0"),
            admin,
        )
        .await;
    assert!(r.body["role_assignments"][0]["role"].get("name").is_none());
}

async fn non_admin_limits(api: &Api) {
    let admin = &api.admin_token;
    let alice = api.user("alice", "alice-pw-1").await;
    let bob = api.user("bob", "bob-pw-1").await;
    let p = api.project("p1").await;
    let member = api.role_id("member").await;
    assert_eq!(
        api.put(
            &format!("/v3/projects/{p}/users/{alice}/roles/{member}"),
            admin
        )
        .await
        .status,
        204
    );
    let token = api.token("alice", "alice-pw-1", Some("p1")).await;

    // Another user is not even visible to a member: 404.
    let r = api
        .put(
            &format!("/v3/projects/{p}/users/{bob}/roles/{member}"),
            &token,
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // Herself on her own project is visible, but granting is an admin's: 403.
    let r = api
        .put(
            &format!("/v3/projects/{p}/users/{alice}/roles/{member}"),
            &token,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        r.body["error"]["message"],
        "You are not authorized to perform the requested action: identity:create_grant."
    );
    let r = api
        .delete(
            &format!("/v3/projects/{p}/users/{alice}/roles/{member}"),
            &token,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = api
        .get(&format!("/v3/projects/{p}/users/{alice}/roles"), &token)
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    let r = api
        .get(&format!("/v3/role_assignments?user.id={alice}"), &token)
        .await;
    assert_eq!(r.status, 200, "their own: {}", r.body);
    assert_eq!(r.body["role_assignments"].as_array().unwrap().len(), 1);
    let r = api
        .get(
            &format!("/v3/role_assignments?user.id={alice}&effective&include_names"),
            &token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["role_assignments"][0]["scope"]["project"]["name"],
        "p1"
    );
    let r = api
        .get(&format!("/v3/role_assignments?user.id={bob}"), &token)
        .await;
    assert_eq!(r.status, 403, "someone else's: {}", r.body);
    let r = api.get("/v3/role_assignments", &token).await;
    assert_eq!(r.status, 403, "everyone's: {}", r.body);
}
