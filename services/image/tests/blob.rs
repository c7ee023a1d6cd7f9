//! The OCI blob ledger's rules on SQLite and PostgreSQL: a blob is written
//! by whoever first claims it and shared after; the collector deletes only
//! a blob nothing references and nobody claimed since it looked; a claim
//! on a blob being deleted waits rather than sharing it.

mod common;

use virga_image::db::blob::{self, Held};
use virga_image::db::image::{self, Model};
use virga_image::migrations::Migrator;

const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// An OCI image whose archive is coming in.
fn model(id: &str) -> Model {
    Model {
        name: None,
        status: "saving".into(),
        container_format: Some("oci".into()),
        ..common::model(id)
    }
}

async fn ledger(db: virga_db::sea_orm::DatabaseConnection) {
    let (a, b) = (
        "00000000-0000-4000-8000-00000000000a",
        "00000000-0000-4000-8000-00000000000b",
    );
    image::create(&db, model(a)).await.unwrap();
    image::create(&db, model(b)).await.unwrap();

    assert_eq!(
        blob::claim(&db, a, D).await.unwrap(),
        Held::Absent,
        "the first claim writes"
    );
    assert!(blob::written(&db, D, 5).await.unwrap());
    assert_eq!(
        blob::claim(&db, b, D).await.unwrap(),
        Held::Present,
        "the next shares"
    );
    assert!(blob::unused(&db).await.unwrap().is_empty());

    blob::release(&db, a).await.unwrap();
    assert!(
        blob::unused(&db).await.unwrap().is_empty(),
        "b still uses it"
    );
    image::delete(&db, b).await.unwrap();
    let unused = blob::unused(&db).await.unwrap();
    assert_eq!(unused.len(), 1, "its references went with the image");
    let (digest, seen) = unused[0].clone();

    // A claim between the collector's look and its move wins.
    assert_eq!(blob::claim(&db, a, D).await.unwrap(), Held::Present);
    blob::release(&db, a).await.unwrap();
    assert!(
        !blob::start_delete(&db, &digest, seen).await.unwrap(),
        "claimed since it looked"
    );

    let (_, seen) = blob::unused(&db).await.unwrap()[0].clone();
    assert!(blob::start_delete(&db, &digest, seen).await.unwrap());
    assert!(
        !blob::start_delete(&db, &digest, seen).await.unwrap(),
        "one collector deletes"
    );
    assert!(
        matches!(blob::claim(&db, a, D).await.unwrap(), Held::Deleting { .. }),
        "a blob being deleted is not shared"
    );
    assert!(
        blob::stale_deleting(&db, chrono::Utc::now() - chrono::Duration::seconds(60))
            .await
            .unwrap()
            .is_empty()
    );
    blob::forget(&db, &digest).await.unwrap();
    assert_eq!(
        blob::claim(&db, a, D).await.unwrap(),
        Held::Absent,
        "then written anew"
    );
    assert!(blob::all(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn ledger_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/image.db", dir.path().display());
    ledger(
        virga_db::connect_and_migrate::<Migrator>(&url, 1)
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn ledger_on_postgres() {
    let url = virga_testkit::postgres::shared().fresh_database();
    ledger(
        virga_db::connect_and_migrate::<Migrator>(&url, 2)
            .await
            .unwrap(),
    )
    .await;
}
