//! Shared by the identity store tests: a freshly migrated database on SQLite
//! or PostgreSQL, and `on_both!` to run one test body on both backends.
#![allow(dead_code)]

use virga_common::pagination::PageRequest;
use virga_db::sea_orm::DatabaseConnection;
use virga_identity::migrations::Migrator;

pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    // Keeps the SQLite file alive for the test's duration.
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/identity.db", dir.path().display());
        let db = virga_db::connect_and_migrate::<Migrator>(&url, 2)
            .await
            .unwrap();
        TestDb {
            db,
            url,
            _dir: Some(dir),
        }
    }

    pub async fn postgres() -> TestDb {
        let url = virga_testkit::postgres::shared().fresh_database();
        let db = virga_db::connect_and_migrate::<Migrator>(&url, 2)
            .await
            .unwrap();
        TestDb {
            db,
            url,
            _dir: None,
        }
    }
}

/// A page big enough for every test's rows.
pub fn all() -> PageRequest {
    PageRequest {
        limit: 1000,
        marker: None,
    }
}

pub fn page(limit: u64, marker: Option<&str>) -> PageRequest {
    PageRequest {
        limit,
        marker: marker.map(Into::into),
    }
}

/// Stamps `<name>::sqlite` and `<name>::postgres` tests for each async
/// `fn <name>(db: &DatabaseConnection)` listed.
#[allow(unused_macros)]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let t = crate::common::TestDb::sqlite().await;
                super::$name(&t.db).await;
            }
            #[tokio::test]
            async fn postgres() {
                let t = crate::common::TestDb::postgres().await;
                super::$name(&t.db).await;
            }
        }
    )*};
}
#[macro_use]
pub mod api;
