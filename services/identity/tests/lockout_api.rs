//! Brute-force protection over HTTP: after `auth.max_failed_logins` wrong
//! passwords a user name is refused even with the right password, with the
//! same 401, while other users are unaffected.

mod common;

use common::api::{ADMIN_PASSWORD, Api};

#[tokio::test]
async fn repeated_failures_lock_the_name_out() {
    let api = Api::start(None, &[("VIRGA_AUTH__MAX_FAILED_LOGINS", "3")]).await;
    let grace = api.user("grace", "grace-pw-1").await;
    let p = api.project("p").await;
    api.grant(&p, &grace, "member").await;
    for _ in 0..3 {
        assert_eq!(api.login("grace", "wrong", Some("p")).await.status, 401);
    }
    let locked = api.login("grace", "grace-pw-1", Some("p")).await;
    assert_eq!(
        locked.status, 401,
        "locked out even with the right password"
    );
    assert_eq!(
        locked.body["error"]["message"],
        "The request you have made requires authentication."
    );
    // Unknown names lock out alike, revealing nothing.
    for _ in 0..4 {
        assert_eq!(api.login("ghost", "x", Some("p")).await.status, 401);
    }
    assert_eq!(
        api.login("admin", ADMIN_PASSWORD, Some("admin"))
            .await
            .status,
        201,
        "other users are not affected"
    );
    api.stop().await;
}
