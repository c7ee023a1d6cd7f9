//! The image store functions' guarantees that HTTP tests cannot pin down:
//! a metadata save never overwrites the status or hashes an upload sets
//! concurrently, and status moves only from the state it is expected in.

mod common;

use virga_image::db::image::{self, Model};
use virga_image::migrations::Migrator;

async fn db() -> (tempfile::TempDir, virga_db::sea_orm::DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/image.db", dir.path().display());
    let db = virga_db::connect_and_migrate::<Migrator>(&url, 1)
        .await
        .unwrap();
    (dir, db)
}

fn model() -> Model {
    common::model("b2173dd3-7ad6-4362-baa6-a68bce3565cb")
}

#[tokio::test]
async fn a_stale_metadata_save_keeps_what_an_upload_wrote() {
    let (_dir, db) = db().await;
    let stale = image::create(&db, model()).await.unwrap();
    assert!(
        image::set_status_if(&db, &stale.id, "queued", "saving")
            .await
            .unwrap()
    );
    assert!(
        !image::set_status_if(&db, &stale.id, "queued", "saving")
            .await
            .unwrap(),
        "only one upload starts"
    );
    assert!(
        image::finish_data(
            &db,
            &stale.id,
            "saving",
            &image::DataFacts {
                size: 3,
                virtual_size: Some(3),
                md5: "md5",
                hash_algo: "sha256",
                hash: "sha",
            }
        )
        .await
        .unwrap()
    );
    // A PATCH that read the image before the upload finished.
    let mut renamed = stale.clone();
    renamed.name = Some("renamed".into());
    let saved = image::save(&db, renamed).await.unwrap();
    assert_eq!(saved.name.as_deref(), Some("renamed"));
    assert_eq!(saved.status, "active");
    assert_eq!(saved.size, Some(3));
    assert_eq!(saved.checksum.as_deref(), Some("md5"));
    assert_eq!(saved.virtual_size, Some(3));
    let stored = image::find(&db, &stale.id).await.unwrap().unwrap();
    assert_eq!(stored, saved);
}
