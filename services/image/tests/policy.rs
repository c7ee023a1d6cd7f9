//! The image policy's visibility rule: who may see which image.

use virga_policy::{Credentials, Policy, Target};

fn creds(project: &str, roles: &[&str]) -> Credentials {
    Credentials {
        project_id: Some(project.into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

fn target(owner: &str, visibility: &str, member: bool) -> Target {
    Target::new()
        .with("owner", owner)
        .with("visibility", visibility)
        .with("is_member", if member { "True" } else { "False" })
}

#[test]
fn get_image_follows_visibility_and_membership() {
    let p = Policy::load(include_str!("../policy.yaml"), None).unwrap();
    let a = creds("A", &["member", "reader"]);
    let see = |t: &Target| p.enforce("image:get_image", &a, t).unwrap();
    assert!(see(&target("A", "private", false)));
    assert!(!see(&target("B", "private", false)));
    assert!(!see(&target("B", "shared", false)));
    assert!(see(&target("B", "shared", true)));
    assert!(see(&target("B", "public", false)));
    assert!(see(&target("B", "community", false)));
    let admin = creds("X", &["admin", "member", "reader"]);
    assert!(
        p.enforce("image:get_image", &admin, &target("B", "private", false))
            .unwrap()
    );
}
