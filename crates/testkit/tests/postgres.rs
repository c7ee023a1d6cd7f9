//! Tests of the shared private PostgreSQL server: fresh databases are
//! distinct and usable, and the server is shared by the whole test run.

use std::process::Command;

use virga_testkit::postgres;

fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("/usr/lib/postgresql/15/bin/psql")
        .args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql `{sql}` on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn fresh_databases_are_distinct_and_usable() {
    let pg = postgres::shared();
    let (a, b) = (pg.fresh_database(), pg.fresh_database());
    assert_ne!(a, b);
    let prefix = format!("postgres://postgres@127.0.0.1:{}/", pg.port());
    assert!(
        a.starts_with(&prefix) && a.ends_with("?sslmode=disable"),
        "{a}"
    );

    psql(
        &a,
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)",
    );
    assert_eq!(psql(&a, "SELECT count(*) FROM t"), "1");
    // `t` exists only in the database it was created in.
    assert_eq!(
        psql(&b, "SELECT count(*) FROM pg_tables WHERE tablename = 't'"),
        "0"
    );
}

#[test]
fn admin_url_reaches_the_postgres_database() {
    let pg = postgres::shared();
    assert_eq!(
        psql(&pg.admin_url(), "SELECT current_database()"),
        "postgres"
    );
    assert_eq!(psql(&pg.admin_url(), "SHOW fsync"), "off");
}

#[test]
fn server_is_recorded_for_the_whole_run() {
    let pg = postgres::shared();
    let run_dir = format!(
        "/tmp/virga-testkit/postgres-{}",
        std::os::unix::process::parent_id()
    );
    let state = std::fs::read_to_string(format!("{run_dir}/state.json")).expect("state.json");
    assert!(
        state.contains(&format!("\"port\":{}", pg.port())),
        "{state}"
    );
    // Every test process of this run found the same server: only one started.
    let generations = std::fs::read_dir(&run_dir)
        .expect("run dir")
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("gen-")
        })
        .count();
    assert_eq!(generations, 1);
}

#[tokio::test]
async fn usable_from_async_tests() {
    let url = postgres::shared().fresh_database();
    assert_eq!(psql(&url, "SELECT 1"), "1");
}
