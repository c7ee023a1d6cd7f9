//! Owns the run-wide private PostgreSQL 15 server: initdb, start, readiness,
//! and creating fresh databases for individual tests.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::run;

const BIN: &str = "/usr/lib/postgresql/15/bin";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The run-wide shared private PostgreSQL server (trust auth on loopback).
#[derive(Debug)]
pub struct Postgres {
    port: u16,
}

#[derive(Serialize, Deserialize)]
struct State {
    port: u16,
}

/// The run-wide shared private PostgreSQL 15 server, started on first use.
pub fn shared() -> &'static Postgres {
    static SHARED: OnceLock<Postgres> = OnceLock::new();
    SHARED.get_or_init(|| {
        let state = run::shared_instance("postgres", |s: &State| is_ready(s.port), start);
        Postgres { port: state.port }
    })
}

impl Postgres {
    /// Creates a fresh, empty database with a unique name and returns its URL.
    pub fn fresh_database(&self) -> String {
        let name = format!("virga_{}", uuid::Uuid::new_v4().simple());
        self.psql(&format!("CREATE DATABASE \"{name}\""));
        self.url(&name)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Admin URL for the `postgres` database.
    pub fn admin_url(&self) -> String {
        self.url("postgres")
    }

    fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    fn psql(&self, sql: &str) {
        let out = Command::new(format!("{BIN}/psql"))
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                &self.admin_url(),
                "-c",
                sql,
            ])
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .unwrap_or_else(|e| panic!("testkit: run psql: {e}"));
        assert!(
            out.status.success(),
            "testkit: psql `{sql}` failed on port {}: {}",
            self.port,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn is_ready(port: u16) -> bool {
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable");
    Command::new(format!("{BIN}/pg_isready"))
        .args(["-q", "-d", &url])
        .status()
        .is_ok_and(|s| s.success())
}

fn start(generation: &Path, run_dir: &Path) -> State {
    let data = generation.join("data");
    let sockets = generation.join("run");
    for dir in [&data, &sockets] {
        fs::create_dir(dir).unwrap_or_else(|e| panic!("testkit: mkdir {}: {e}", dir.display()));
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).expect("chmod 0700");
        chown_to_postgres(dir);
    }
    let initdb_log = generation.join("initdb.log");
    let out = as_postgres(&format!("{BIN}/initdb"))
        .arg("-D")
        .arg(&data)
        .args(
            "-A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync --no-instructions".split(' '),
        )
        .output()
        .unwrap_or_else(|e| panic!("testkit: run initdb: {e}"));
    let _ = fs::write(&initdb_log, [&out.stdout[..], &out.stderr[..]].concat());
    assert!(
        out.status.success(),
        "testkit: initdb failed\n{}",
        run::log_tail(&initdb_log, 40)
    );

    let log = generation.join("postgres.log");
    let pgid_file = generation.join("pgid");
    // A port can be taken between picking and binding; a retry gets a new one.
    for attempt in 1..=3 {
        let port = run::free_ports(1)[0];
        let mut cmd = as_postgres(&format!("{BIN}/postgres"));
        cmd.arg("-D").arg(&data).arg("-k").arg(&sockets);
        for setting in [
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
            "listen_addresses=127.0.0.1",
            "max_connections=300",
        ] {
            cmd.args(["-c", setting]);
        }
        let mut child = run::spawn_detached(cmd.args(["-p", &port.to_string()]), &log, 0);
        fs::write(&pgid_file, child.id().to_string()).expect("write pgid");
        if attempt == 1 {
            // Spawned before waiting, so a server orphaned by a test process
            // dying mid-boot is still torn down at the end of the run.
            run::watch_for_run(&pgid_file, "QUIT", run_dir);
        }
        match wait_ready(port, &mut child) {
            Ok(()) => return State { port },
            Err(why) if attempt < 3 && run::log_tail(&log, 20).contains("in use") => {
                eprintln!("testkit: postgres on port {port}: {why}; retrying");
            }
            Err(why) => {
                run::signal(&child.id().to_string(), "KILL");
                let _ = child.wait();
                panic!(
                    "testkit: postgres did not start: {why}\n{}",
                    run::log_tail(&log, 40)
                );
            }
        }
    }
    unreachable!("the last attempt panics or returns")
}

fn wait_ready(port: u16, child: &mut Child) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("postgres exited with {status}"));
        }
        if is_ready(port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("not ready on port {port} after {START_TIMEOUT:?}"))
}

/// initdb and postgres refuse to run as root, so drop to the `postgres` user.
fn as_postgres(program: &str) -> Command {
    if !run::is_root() {
        return Command::new(program);
    }
    // setpriv execs in place, so the child's pid is the postmaster's.
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=postgres",
        "--regid=postgres",
        "--init-groups",
        "--",
        program,
    ]);
    cmd
}

fn chown_to_postgres(dir: &Path) {
    if !run::is_root() {
        return;
    }
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let ids = passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres") && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    });
    let (uid, gid) =
        ids.expect("testkit: no `postgres` user in /etc/passwd (is PostgreSQL installed?)");
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("testkit: chown {}: {e}", dir.display()));
}
