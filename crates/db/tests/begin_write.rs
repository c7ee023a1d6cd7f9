//! A writing transaction that reads first survives another writer committing
//! in between on SQLite: `begin_write` takes the write lock at BEGIN, where
//! a plain deferred transaction fails its first write (SQLITE_BUSY_SNAPSHOT,
//! which the busy timeout does not retry). The control case shows the
//! failure the helper exists for, so the test cannot pass vacuously.

use std::time::Duration;

use virga_db::sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, Statement, TransactionTrait,
};

async fn db() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let db = virga_db::connect(&url, 4).await.unwrap();
    exec(&db, "CREATE TABLE t (n INTEGER NOT NULL)")
        .await
        .unwrap();
    exec(&db, "INSERT INTO t (n) VALUES (0)").await.unwrap();
    (dir, db)
}

async fn exec(db: &impl ConnectionTrait, sql: &str) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .map(|_| ())
}

/// Reads in `txn`, lets another connection commit a write, then writes in
/// `txn`: the result of `txn`'s write (the other one must succeed).
async fn read_then_write(db: &DatabaseConnection, txn: DatabaseTransaction) -> Result<(), DbErr> {
    exec(&txn, "SELECT n FROM t").await?;
    let other = {
        let db = db.clone();
        tokio::spawn(async move { exec(&db, "UPDATE t SET n = n + 10").await })
    };
    // Long enough for the other write to commit if nothing holds it back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mine = exec(&txn, "UPDATE t SET n = n + 1").await;
    match mine {
        Ok(()) => txn.commit().await?,
        Err(_) => txn.rollback().await?,
    }
    other.await.unwrap()?;
    mine
}

async fn total(db: &DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT n FROM t",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn a_writing_transaction_that_reads_first_keeps_its_write() {
    let (_dir, db) = db().await;
    let txn = virga_db::begin_write(&db).await.unwrap();
    read_then_write(&db, txn).await.unwrap();
    assert_eq!(
        total(&db).await,
        11,
        "both writes landed, one after the other"
    );
}

#[tokio::test]
async fn a_plain_transaction_that_reads_first_loses_its_write() {
    let (_dir, db) = db().await;
    let txn = db.begin().await.unwrap();
    let e = read_then_write(&db, txn).await.unwrap_err();
    assert!(
        e.to_string().contains("database is locked"),
        "SQLite refuses the stale reader's write: {e}"
    );
    assert_eq!(total(&db).await, 10, "only the other write landed");
}
