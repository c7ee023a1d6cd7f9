//! Application credential store: CRUD per user, name uniqueness per user,
//! role ids, the redacted Debug, and the cascade from the user.

#[macro_use]
mod common;

use virga_common::Error;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::db::application_credential::{self, NewApplicationCredential};
use virga_identity::db::user::{self, NewUser};

on_both!(crud_and_uniqueness, debug_and_cascade);

const HASH: &str = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$c2VjcmV0aGFzaA";

fn new_user(name: &str) -> NewUser {
    NewUser {
        name: name.into(),
        domain_id: "default".into(),
        enabled: true,
        ..Default::default()
    }
}

fn new(user_id: &str, name: &str) -> NewApplicationCredential {
    NewApplicationCredential {
        user_id: user_id.into(),
        project_id: "p1".into(),
        name: name.into(),
        secret_hash: HASH.into(),
        ..Default::default()
    }
}

async fn crud_and_uniqueness(db: &DatabaseConnection) {
    let alice = user::create(db, new_user("alice")).await.unwrap();
    let bob = user::create(db, new_user("bob")).await.unwrap();
    let expires = virga_identity::db::now() + chrono::Duration::days(1);

    let ci = application_credential::create(
        db,
        NewApplicationCredential {
            description: Some("for CI".into()),
            expires_at: Some(expires),
            unrestricted: true,
            role_ids: vec!["r2".into(), "r1".into()],
            ..new(&alice.id, "ci")
        },
    )
    .await
    .unwrap();
    assert_eq!(ci.user_id, alice.id);
    assert_eq!(ci.project_id, "p1");
    assert_eq!(ci.name, "ci");
    assert_eq!(ci.description.as_deref(), Some("for CI"));
    assert_eq!(ci.secret_hash, HASH);
    assert_eq!(ci.expires_at, Some(expires));
    assert!(ci.unrestricted);
    // Role ids round trip in order.
    assert_eq!(ci.role_ids().unwrap(), ["r2", "r1"]);

    let read = application_credential::get(db, &ci.id).await.unwrap();
    assert_eq!(read, ci);
    assert_eq!(read.role_ids().unwrap(), ["r2", "r1"]);
    assert_eq!(
        application_credential::get_for_user(db, &alice.id, &ci.id)
            .await
            .unwrap(),
        ci
    );
    // Another user's credential is NotFound, not Forbidden.
    assert!(matches!(
        application_credential::get_for_user(db, &bob.id, &ci.id).await,
        Err(Error::NotFound {
            kind: "application credential",
            ..
        })
    ));
    assert!(matches!(
        application_credential::get(db, "ghost").await,
        Err(Error::NotFound {
            kind: "application credential",
            ..
        })
    ));

    // No roles, no expiry, restricted.
    let deploy = application_credential::create(db, new(&alice.id, "deploy"))
        .await
        .unwrap();
    assert_eq!(deploy.role_ids().unwrap(), Vec::<String>::new());
    assert_eq!(deploy.expires_at, None);
    assert_eq!(deploy.description, None);
    assert!(!deploy.unrestricted);
    assert_eq!(
        application_credential::get(db, &deploy.id).await.unwrap(),
        deploy
    );

    // The same name for the same user is a conflict; for another user, fine.
    let dup = application_credential::create(db, new(&alice.id, "ci"))
        .await
        .unwrap_err();
    assert!(matches!(dup, Error::Conflict(_)));
    assert_eq!(
        dup.to_string(),
        "Conflict occurred attempting to store application credential - Duplicate entry."
    );
    let bobs = application_credential::create(db, new(&bob.id, "ci"))
        .await
        .unwrap();
    assert_eq!(bobs.user_id, bob.id);
    assert_ne!(bobs.id, ci.id);
    // An unknown user is a bad reference.
    assert!(matches!(
        application_credential::create(db, new("nouser", "ci")).await,
        Err(Error::BadRequest(_))
    ));

    // List: the user's own, ordered by id, optionally by name.
    let mut alices = vec![ci.clone(), deploy.clone()];
    alices.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        application_credential::list(db, &alice.id, None)
            .await
            .unwrap(),
        alices
    );
    assert_eq!(
        application_credential::list(db, &alice.id, Some("ci"))
            .await
            .unwrap(),
        vec![ci.clone()]
    );
    assert!(
        application_credential::list(db, &alice.id, Some("none"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        application_credential::list(db, &bob.id, None)
            .await
            .unwrap(),
        vec![bobs.clone()]
    );

    // Delete: not through another user, then by the owner, then gone.
    assert!(matches!(
        application_credential::delete(db, &bob.id, &ci.id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        application_credential::get(db, &ci.id).await.unwrap(),
        ci,
        "a refused delete leaves the credential"
    );
    application_credential::delete(db, &alice.id, &ci.id)
        .await
        .unwrap();
    assert!(matches!(
        application_credential::get(db, &ci.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        application_credential::delete(db, &alice.id, &ci.id).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        application_credential::list(db, &alice.id, None)
            .await
            .unwrap(),
        vec![deploy.clone()]
    );
    // The name is free again.
    let again = application_credential::create(db, new(&alice.id, "ci"))
        .await
        .unwrap();
    assert_eq!(again.name, "ci");
    assert_ne!(again.id, ci.id);
}

async fn debug_and_cascade(db: &DatabaseConnection) {
    let carol = user::create(db, new_user("carol")).await.unwrap();
    let dave = user::create(db, new_user("dave")).await.unwrap();
    let c = application_credential::create(db, new(&carol.id, "ci"))
        .await
        .unwrap();
    let shown = format!("{c:?}");
    assert!(
        !shown.contains(HASH),
        "Debug hides the secret hash: {shown}"
    );
    assert!(!shown.contains("argon2"), "Debug hides the secret hash");
    assert!(shown.contains(&c.id), "Debug still shows the id: {shown}");
    let d = application_credential::create(db, new(&dave.id, "ci"))
        .await
        .unwrap();

    user::delete(db, &carol.id).await.unwrap();
    assert!(matches!(
        application_credential::get(db, &c.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        application_credential::list(db, &carol.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    // Only the deleted user's credentials go.
    assert_eq!(application_credential::get(db, &d.id).await.unwrap(), d);
}
