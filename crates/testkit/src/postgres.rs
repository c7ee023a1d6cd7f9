//! Owns the run-wide private PostgreSQL 15 server: initdb, start, readiness,
//! and creating fresh databases for individual tests.

mod initdb;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use initdb::{as_postgres, chown_to_postgres, initdb};
use serde::{Deserialize, Serialize};

use crate::process;
use crate::run::{self, Failure, Probe};

const BIN: &str = "/usr/lib/postgresql/15/bin";
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Bounds psql and pg_isready, which would otherwise wait on a wedged server.
const HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// The run-wide shared private PostgreSQL server (trust auth on loopback).
#[derive(Debug)]
pub struct Postgres {
    port: u16,
    log: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct State {
    port: u16,
    data: PathBuf,
    log: PathBuf,
}

/// The run-wide shared private PostgreSQL 15 server, started on first use.
pub fn shared() -> &'static Postgres {
    static SHARED: OnceLock<Postgres> = OnceLock::new();
    SHARED.get_or_init(|| {
        let alive =
            |s: &State| is_ready(s.port) && data_directory(s.port).ok() == Some(s.data.clone());
        let state = run::shared_instance("postgres", alive, start);
        Postgres {
            port: state.port,
            log: state.log,
        }
    })
}

impl Postgres {
    /// Creates a fresh, empty database with a unique name and returns its URL.
    pub fn fresh_database(&self) -> String {
        let name = format!("virga_{}", uuid::Uuid::new_v4().simple());
        let sql = format!("CREATE DATABASE \"{name}\"");
        if let Err(why) = psql(self.port, &sql) {
            panic!(
                "testkit: psql `{sql}` failed on port {}: {why}\n{}",
                self.port,
                process::log_tail(&self.log, 40)
            );
        }
        url(self.port, &name)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Admin URL for the `postgres` database.
    pub fn admin_url(&self) -> String {
        url(self.port, "postgres")
    }
}

fn url(port: u16, db: &str) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/{db}?sslmode=disable")
}

/// Runs `sql` as the superuser and returns its unaligned output.
fn psql(port: u16, sql: &str) -> Result<String, String> {
    let mut cmd = Command::new(format!("{BIN}/psql"));
    cmd.args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"])
        .arg(url(port, "postgres"))
        .args(["-c", sql])
        .env("PGCONNECT_TIMEOUT", "10");
    let out = process::output_with_deadline(&mut cmd, HELPER_TIMEOUT)?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn is_ready(port: u16) -> bool {
    let mut cmd = Command::new(format!("{BIN}/pg_isready"));
    cmd.args(["-q", "-t", "5", "-d", &url(port, "postgres")]);
    process::output_with_deadline(&mut cmd, HELPER_TIMEOUT).is_ok_and(|out| out.status.success())
}

/// Which data directory the server on `port` serves: a port picked free
/// may since have been taken by another run's server, which pg_isready
/// accepts just as well as ours.
fn data_directory(port: u16) -> Result<PathBuf, String> {
    psql(port, "SHOW data_directory").map(PathBuf::from)
}

fn start(generation: &Path, run_dir: &Path) -> State {
    let data = generation.join("data");
    let sockets = generation.join("run");
    for dir in [&data, &sockets] {
        fs::create_dir(dir).unwrap_or_else(|e| panic!("testkit: mkdir {}: {e}", dir.display()));
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).expect("chmod 0700");
        chown_to_postgres(dir);
    }
    initdb(&data, &generation.join("initdb.log"));

    let log = generation.join("postgres.log");
    let pgid_file = generation.join("pgid");
    let mut watched = false;
    let port = run::retry_on_clash("postgres", || {
        process::truncate_log(&log);
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
        let mut child = process::spawn_detached(cmd.args(["-p", &port.to_string()]), &log, 0);
        fs::write(&pgid_file, child.id().to_string()).expect("write pgid");
        if !watched {
            // Spawned before waiting, so a server orphaned by a test process
            // dying mid-boot is still torn down at the end of the run.
            process::watch_for_run(&pgid_file, "QUIT", run_dir);
            watched = true;
        }
        let ready = run::wait_until(START_TIMEOUT, Duration::from_millis(50), || {
            if let Ok(Some(status)) = child.try_wait() {
                return Probe::Failed(Failure::new(format!("postgres exited with {status}")));
            }
            if !is_ready(port) {
                return Probe::NotYet(format!("pg_isready fails on port {port}"));
            }
            match data_directory(port) {
                Ok(dir) if dir == data => Probe::Ready,
                Ok(dir) => Probe::Failed(Failure::clash(format!(
                    "port {port} is served from {}",
                    dir.display()
                ))),
                Err(why) => Probe::NotYet(why),
            }
        });
        ready.map(|()| port).map_err(|mut f| {
            // Never leave this attempt's postmaster behind: the next attempt
            // starts another one on the same data directory.
            process::signal(&format!("-{}", child.id()), "KILL");
            let _ = child.wait();
            f.clash |= process::logs_show_clash(&[&log]);
            f.why = format!("{}\n{}", f.why, process::log_tail(&log, 40));
            f
        })
    });
    State { port, data, log }
}
